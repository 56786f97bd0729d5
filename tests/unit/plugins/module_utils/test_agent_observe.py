"""What the agent tells the outside: apprise notifications (to apprise's json:// service on a
loopback receiver) and the Prometheus textfile."""

from __future__ import annotations

import http.server
import json
import os
import threading
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils import agent_config
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent import STOPPED, UPDATED, Agent
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import load_agent_config
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_metrics import escape, render
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_state import AgentState
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils import agent_fakes
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.agent_fakes import (
    SECRET,
    SERVICES,
    basic_config,
    write_config,
)
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.public_ip_fakes import closed_port

fake_services = agent_fakes.fake_services
pytestmark = pytest.mark.usefixtures("fake_services")
NAME = "gw.dyn.test."
APPRISE_TOKEN = "apprise-user:apprise-pass-4242"


class _Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def receiver(servers: list) -> tuple[int, list[dict]]:
    """A loopback HTTP server that records the JSON bodies POSTed to it."""
    received: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(
                {
                    "path": self.path,
                    "auth": self.headers.get("Authorization"),
                    "body": json.loads(self.rfile.read(int(self.headers["Content-Length"]))),
                }
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = _Receiver(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    class Closer:
        def close(self) -> None:
            server.shutdown()
            server.server_close()

    servers.append(Closer())
    return server.server_address[1], received


def agent_for(tmp_path: Path, data: dict, lines: list[str]) -> Agent:
    config = load_agent_config(write_config(tmp_path, data))
    return Agent(
        config,
        lines.append,
        clock=lambda: 1_000_000.0,
        sleep=lambda _s: None,
        rand=lambda: 1.0,
        lookup_for=lambda provider, name: SERVICES[provider.config.options["service"]].lookup,
    )


# ---- apprise


def test_apprise_hears_of_updates_and_failures_without_secrets(tmp_path: Path, servers: list) -> None:
    port, received = receiver(servers)
    url = f"json://{APPRISE_TOKEN}@127.0.0.1:{port}/notify"
    lines: list[str] = []
    SERVICES["b"].answer = "badauth"
    outcomes = agent_for(tmp_path, basic_config(apprise=[url]), lines).run_once().outcomes
    assert [o.status for o in outcomes] == [UPDATED, STOPPED]
    assert [r["path"] for r in received] == ["/notify", "/notify"]
    assert received[0]["auth"]  # apprise sent the URL's credentials to the receiver, as configured
    updated, failed = received[0]["body"], received[1]["body"]
    assert updated["title"] == "fleetdns agent: gw.dyn.test via a updated"
    assert updated["message"] == "gw.dyn.test via a: A 8.8.8.8"
    assert failed["title"] == "fleetdns agent: gw.dyn.test via b failed"
    assert "badauth" in failed["message"] and SECRET not in failed["message"]
    assert all(APPRISE_TOKEN not in line and "apprise-pass" not in line for line in lines)


def test_an_unreachable_apprise_url_is_one_log_line_without_the_url(tmp_path: Path) -> None:
    url = f"json://{APPRISE_TOKEN}@127.0.0.1:{closed_port()}/notify"
    lines: list[str] = []
    outcomes = agent_for(tmp_path, basic_config(apprise=[url]), lines).run_once().outcomes
    assert [o.status for o in outcomes] == [UPDATED, UPDATED]  # a notification failure fails no update
    failures = [line for line in lines if line.startswith("failed: apprise notification")]
    assert len(failures) == 2
    assert all("apprise-pass" not in line and str(port_of(url)) not in line for line in lines)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def test_apprise_configured_but_not_installed_says_which_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_config, "apprise_available", lambda: False)
    path = write_config(tmp_path, basic_config(apprise=["ntfy://my-topic"]))
    with pytest.raises(ConfigError) as caught:
        load_agent_config(path)
    text = str(caught.value)
    assert "apprise URLs are configured but the apprise package is not installed" in text
    assert "pip install apprise" in text and "agent.json:" in text


def test_an_apprise_url_apprise_does_not_know_is_located_without_the_url(tmp_path: Path) -> None:
    path = write_config(tmp_path, basic_config(apprise=["ntfy://ok-topic", "nosuchservice://secret-token-99"]))
    with pytest.raises(ConfigError) as caught:
        load_agent_config(path)
    text = str(caught.value)
    assert "apprise[1]" in text and "scheme nosuchservice" in text and "secret-token-99" not in text


@pytest.mark.parametrize("value", [[], "json://x", [""], [3]])
def test_apprise_must_be_a_list_of_urls(tmp_path: Path, value: object) -> None:
    with pytest.raises(ConfigError, match="must be a list of apprise notification URLs"):
        load_agent_config(write_config(tmp_path, basic_config(apprise=value)))


# ---- Prometheus textfile


def test_the_metrics_file_after_a_pass(tmp_path: Path) -> None:
    lines: list[str] = []
    SERVICES["b"].answer = "down"
    agent = agent_for(tmp_path, basic_config(metrics_file="metrics/fleetdns.prom"), lines)
    (tmp_path / "metrics").mkdir()
    agent.run_once()
    path = tmp_path / "metrics" / "fleetdns.prom"
    text = path.read_text(encoding="utf-8")
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert "fleetdns_agent_last_pass_timestamp_seconds 1000000\n" in text
    assert 'fleetdns_agent_address_detected{family="ipv4"} 1\n' in text
    assert 'fleetdns_agent_detected_address_info{family="ipv4",address="8.8.8.8"} 1\n' in text
    assert 'fleetdns_agent_updates_total{name="gw.dyn.test",provider="a"} 1\n' in text
    assert 'fleetdns_agent_last_success_timestamp_seconds{name="gw.dyn.test",provider="a"} 1000000\n' in text
    assert 'fleetdns_agent_ok{name="gw.dyn.test",provider="a"} 1\n' in text
    assert 'fleetdns_agent_failures_total{name="gw.dyn.test",provider="b"} 1\n' in text
    assert 'fleetdns_agent_ok{name="gw.dyn.test",provider="b"} 0\n' in text
    assert "# TYPE fleetdns_agent_updates_total counter\n" in text
    assert SECRET not in text
    assert not [p for p in (tmp_path / "metrics").iterdir() if p.name != "fleetdns.prom"]  # no temp file left
    agent.run_once()  # the counter goes on across passes (and restarts: it is kept in the state file)
    text = path.read_text(encoding="utf-8")
    assert 'fleetdns_agent_failures_total{name="gw.dyn.test",provider="b"} 1\n' in text  # backing off: no try


def test_a_metrics_file_that_cannot_be_written_is_logged_not_fatal(tmp_path: Path) -> None:
    lines: list[str] = []
    agent = agent_for(tmp_path, basic_config(metrics_file="missing-dir/fleetdns.prom"), lines)
    outcomes = agent.run_once().outcomes
    assert [o.status for o in outcomes] == [UPDATED, UPDATED]
    assert any(line.startswith("failed: metrics file ") for line in lines)


def test_the_metrics_file_must_end_in_prom(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"only \*\.prom"):
        load_agent_config(write_config(tmp_path, basic_config(metrics_file="fleetdns.txt")))


def test_render_without_a_detected_address_and_label_escaping() -> None:
    text = render([('we"ird\\name.', "p\n1", False)], AgentState(), {4: None, 6: "2001:4860::8888"}, 12.5)
    assert "fleetdns_agent_last_pass_timestamp_seconds 12.5\n" in text
    assert 'fleetdns_agent_address_detected{family="ipv4"} 0\n' in text
    assert 'address="2001:4860::8888"' in text and 'family="ipv4",address' not in text
    assert 'fleetdns_agent_ok{name="we\\"ird\\\\name",provider="p\\n1"} 0\n' in text
    assert escape('a"b') == 'a\\"b'


def test_the_cli_refuses_an_unknown_apprise_url_without_printing_any_of_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        from fleetdns.cli import main
    except ImportError:  # under `ansible-test units`: the CLI package lies inside the collection
        from ansible_collections.fleetdns.ddns.fleetdns.cli import main

    path = write_config(tmp_path, basic_config(apprise=["nosuchservice://secret-token-99"]))
    assert main(["agent", "--config", path, "--once"]) == 1
    out, err = capsys.readouterr()
    assert "apprise does not understand this URL (scheme nosuchservice)" in out + err
    assert "secret-token" not in out + err and "nosuchservice://" not in out + err, out + err
