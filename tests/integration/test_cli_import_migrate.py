"""`fleetdns import --from-ddclient` and `--from-ddns` with the real command: the ddclient.conf
shapes of ddclient's own sample config (Debian's ddclient package) and documentation, and the
`ddns` client's sample config as its PyPI package writes it (`ddns --new-config`), plus its INI form.
The inventory written validates, holds no secret (they are in the secrets file, which is valid
YAML ready for ansible-vault), the agent config passes the agent's own check (and, for nsupdate,
a real pass of the agent updates BIND), and what cannot be translated is listed."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import load_agent_config

from integration.test_cli import EXAMPLE, ok, run

DEBIAN_SAMPLE = Path("/usr/share/doc/ddclient/examples/sample-etc_ddclient.conf")
SECRETS = Path("group_vars") / "all" / "fleetdns_secrets.yml"


def debian_sample() -> str:
    if not DEBIAN_SAMPLE.exists():
        pytest.fail(f"{DEBIAN_SAMPLE} not found: install the Debian package ddclient", pytrace=False)
    return DEBIAN_SAMPLE.read_text()


def sample_blocks(text: str, *protocols: str) -> str:
    """The sample's commented-out global lines and host blocks for `protocols`, uncommented as a
    user enabling them would (a block is a run of commented lines up to the first blank one)."""
    lines = text.splitlines()
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.startswith("#") and not line.startswith("##") and line.strip("# \t"):
            current.append(re.sub(r"^# ?", "", line))
        else:
            if current:
                blocks.append(current)
            current = []
    chosen = []
    for block in blocks:
        joined = "\n".join(block)
        if any(re.search(rf"protocol\s*=\s*{p}\b", joined) for p in protocols):
            chosen.append(joined)
    assert len(chosen) >= len(protocols), f"the sample has no block for some of {protocols}"
    head = "\n".join(line for line in lines if re.match(r"^(daemon|syslog|mail|pid|ssl)=", line))
    return head + "\n\n" + "\n\n".join(chosen) + "\n"


def migrate(tmp_path: Path, flag: str, config: Path, *extra: str, code: int = 0) -> subprocess.CompletedProcess:
    return ok(run("import", "-i", "hosts.yml", flag, str(config), "--host", "router", *extra, cwd=tmp_path), code)


def check_outputs(tmp_path: Path, secrets: list[str]) -> dict[str, Any]:
    """The inventory validates and holds none of `secrets`; the secrets file holds them all; the
    agent config passes the agent's check. Returns the agent config."""
    inventory = (tmp_path / "hosts.yml").read_text()
    for secret in secrets:
        assert secret not in inventory
    vault_vars = yaml.safe_load((tmp_path / SECRETS).read_text())
    assert set(secrets) <= set(vault_vars.values())
    assert stat.S_IMODE((tmp_path / SECRETS).stat().st_mode) == 0o600
    assert "ansible-vault encrypt" in (tmp_path / SECRETS).read_text()
    ok(run("validate", "-i", "hosts.yml", cwd=tmp_path))
    agent_file = tmp_path / "router.agent.json"
    assert stat.S_IMODE(agent_file.stat().st_mode) == 0o600
    load_agent_config(str(agent_file))  # the agent's own check, permissions included
    return json.loads(agent_file.read_text())


@pytest.fixture
def example(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLE, tmp_path / "hosts.yml")
    return tmp_path


# ---------------------------------------------------------------- ddclient


def test_debian_sample_config_as_shipped_configures_no_host(example: Path) -> None:
    (example / "ddclient.conf").write_text(debian_sample())
    failed = migrate(example, "--from-ddclient", example / "ddclient.conf", code=1)
    assert "no host to update is configured" in failed.stderr
    assert (example / "hosts.yml").read_bytes() == EXAMPLE.read_bytes()
    assert not (example / "group_vars").exists() and not (example / "router.agent.json").exists()


def test_debian_sample_blocks_of_every_supported_protocol(example: Path) -> None:
    text = sample_blocks(debian_sample(), "noip", "namecheap", "duckdns", "dyndns2")
    conf = example / "ddclient.conf"
    conf.write_text(text)
    done = migrate(example, "--from-ddclient", conf)
    out = done.stdout
    # the sample's noip block (comma-joined, continued): both hosts, the comma after the password noted
    assert "your-host.domain.com via router-dyndns2" in out and "your-2nd-host.domain.com via router-dyndns2" in out
    assert "ddclient 3.10 takes that comma as part of the password" in out
    assert "subdomain.example.com via router-namecheap" in out
    assert "hostwithoutduckdnsorg.duckdns.org via router-duckdns" in out
    # running options are listed, not dropped
    for option in ("syslog=yes", "mail=root", "pid=/run/ddclient.pid"):
        assert option in out
    # zoneedit/easydns/... blocks were not chosen; the loopia/orgdns dyndns2 blocks were
    assert "my.domain.tld via" in out
    agent = check_outputs(
        example, ["your-noip-password", "example.com-password", "my-auto-generated-password", "my-loopia.se-password"]
    )
    assert agent["interval"] == 300  # daemon=300
    providers = agent["providers"]
    noip = next(p for p in providers.values() if p.get("server") == "https://dynupdate.no-ip.com")
    assert noip["password"] == "your-noip-password" and noip["username"] == "your-noip-login"
    assert any(p.get("path") == "/XDynDNSServer/XDynDNS.php" for p in providers.values())  # loopia's script=
    assert "your-noip-password" not in done.stdout + done.stderr


DOC_SHAPES = r"""
# one setting per line, globals first (ddclient's documentation)
daemon=5m
use=ip, ip=8.8.4.4
usev6=ifv6, ifv6=eth0
ssl=yes

protocol=cloudflare
zone=example.com
ttl=1
login=token
password=cf-api-token
home.example.com

# comma-joined, one line; a quoted value with an escaped comma
protocol=freedns, login=fd-user, password='fd pass' gw.mooo.com
protocol=dyndns2, server=members.dyndns.org, script=/nic/update, \
  login=dyn\,user, password=dyn-pw a.dyndns.org,b.dyndns.org
# the old form: host login password
protocol=namecheap nc.example.org example.org nc-secret
# host= as an option
protocol=duckdns, password=duck-token, host=dock
protocol=changeip, login=c, password=d myhost.changeip.org
"""


def test_ddclient_documentation_shapes(example: Path) -> None:
    conf = example / "ddclient.conf"
    conf.write_text(DOC_SHAPES)
    out = migrate(example, "--from-ddclient", conf).stdout
    assert "home.example.com via router-cloudflare" in out
    assert "gw.mooo.com via router-freedns" in out
    assert "a.dyndns.org via router-dyndns2" in out and "b.dyndns.org via router-dyndns2" in out
    assert "nc.example.org via router-namecheap" in out
    assert "dock.duckdns.org via router-duckdns" in out
    assert "myhost.changeip.org: service 'changeip': fleetdns has no provider for it" in out
    agent = check_outputs(example, ["cf-api-token", "fd pass", "dyn-pw", "nc-secret", "duck-token"])
    assert agent["detect"] == {"ipv4": {"static": "8.8.4.4"}, "ipv6": {"sources": ["interface"]}}
    assert agent["interval"] == 300  # 5m
    dyn = agent["providers"]["router-dyndns2"]
    assert dyn == {
        "type": "dyndns2", "zone": "dyndns.org", "username": "dyn,user", "password": "dyn-pw",
        "server": "https://members.dyndns.org", "path": "/nic/update",
    }  # fmt: skip
    assert agent["providers"]["router-namecheap"]["domain"] == "example.org"
    assert agent["providers"]["router-cloudflare"]["api_token"] == "cf-api-token"
    inventory = yaml.safe_load((example / "hosts.yml").read_text())
    providers = inventory["all"]["vars"]["fleetdns_providers"]
    assert providers["router-cloudflare"]["api_token"] == "{{ vault_fleetdns_router_cloudflare_api_token }}"
    clients = inventory["all"]["children"]["fleetdns_clients"]["hosts"]
    assert clients["router"]["fleetdns_names"][0] == "home.example.com"
    # the inventory as it was is all still there, byte for byte, in order
    before = EXAMPLE.read_text().splitlines(True)
    after = (example / "hosts.yml").read_text().splitlines(True)
    position = 0
    for line in before:
        position = after.index(line, position) + 1


def test_nsupdate_migration_drives_a_real_agent_pass_against_bind(tmp_path: Path, bind: Any) -> None:
    key_file = tmp_path / "host1.key"
    shutil.copy(bind.key_file("host1key"), key_file)
    (tmp_path / "ddclient.conf").write_text(
        f"use=ip, ip=8.8.4.4\nprotocol=nsupdate, server={bind.host}:{bind.port}, zone={bind.zone[:-1]}, "
        f"password={key_file}, ttl=60 host1.{bind.zone[:-1]}\n"
    )
    (tmp_path / "hosts.yml").write_text("all:\n  vars:\n    fleetdns_owner: lab-fleet\n")
    out = ok(run("import", "-i", "hosts.yml", "--from-ddclient", "ddclient.conf", "--host", "host1", cwd=tmp_path))
    assert "with ownership: key" in out.stdout
    secret = bind.keys["host1key"].secret
    assert secret not in (tmp_path / "hosts.yml").read_text() and secret not in out.stdout + out.stderr
    ok(run("validate", "-i", "hosts.yml", cwd=tmp_path))
    agent_file = tmp_path / "host1.agent.json"
    agent = json.loads(agent_file.read_text())
    assert agent["providers"]["host1-rfc2136"]["tsig_secret"] == secret
    assert agent["owner"] == "lab-fleet"
    fleetdns = Path(sys.executable).parent / "fleetdns"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    passed = subprocess.run(
        [str(fleetdns), "agent", "--config", str(agent_file), "--once"],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert bind.query(f"host1.{bind.zone}", "A") == {"8.8.4.4"}


def test_ddclient_bad_input_writes_nothing(example: Path) -> None:
    missing = run("import", "-i", "hosts.yml", "--from-ddclient", "nope.conf", "--host", "r", cwd=example)
    ok(missing, 1)
    assert "cannot read nope.conf" in missing.stderr

    conf = example / "ddclient.conf"
    conf.write_text("protocol=duckdns, password=tok myhome\n")
    (example / "router.agent.json").write_text("{}")
    taken = migrate(example, "--from-ddclient", conf, code=1)
    assert "router.agent.json exists already; nothing was written" in taken.stderr
    (example / "router.agent.json").unlink()

    (example / "group_vars").mkdir()
    (example / "group_vars" / "all.yml").write_text("x: 1\n")
    hidden = migrate(example, "--from-ddclient", conf, code=1)
    assert "group_vars/all.yml exists" in hidden.stderr and "--secrets-file" in hidden.stderr
    (example / "group_vars" / "all.yml").unlink()

    host = migrate(example, "--from-ddclient", conf, "--host", "gw", code=1)
    assert "host 'gw' is in the inventory already" in host.stderr
    assert (example / "hosts.yml").read_bytes() == EXAMPLE.read_bytes()
    assert not list((example / "group_vars").iterdir()) and not (example / "router.agent.json").exists()
    assert not (example / "gw.agent.json").exists()


# ---------------------------------------------------------------- the ddns client


def ddns_sample(tmp_path: Path) -> Path:
    """The sample config the PyPI `ddns` package writes itself."""
    binary = Path(sys.executable).parent / "ddns"
    if not binary.exists():
        pytest.fail("the `ddns` client is missing: run `make venv` (the test extra installs ddns)", pytrace=False)
    path = tmp_path / "config.json"
    made = subprocess.run(
        [str(binary), f"--new-config={path}"], capture_output=True, text=True, timeout=60, check=False,
        cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    assert path.exists(), made.stdout + made.stderr
    return path


def test_ddns_sample_config_as_written_by_the_package(example: Path) -> None:
    sample = ddns_sample(example)
    failed = migrate(example, "--from-ddns", sample, code=1)
    assert "service 'debug': fleetdns has no provider for it" in failed.stderr
    assert "nothing could be translated, so nothing was written" in failed.stderr
    assert (example / "hosts.yml").read_bytes() == EXAMPLE.read_bytes()

    data = json.loads(sample.read_text())
    data.update(dns="cloudflare", id="", token="cf-tok", ipv4=["home.example.net"], ipv6=["home.example.net"])
    data["index6"] = ["public"]
    sample.write_text(json.dumps(data, indent=2))
    done = migrate(example, "--from-ddns", sample)
    assert "home.example.net via router-cloudflare" in done.stdout
    assert "cache: not translated" in done.stdout  # the sample's own settings are listed
    agent = check_outputs(example, ["cf-tok"])
    assert agent["providers"]["router-cloudflare"] == {
        "type": "cloudflare", "zone": "example.net", "api_token": "cf-tok", "ttl": 600,
    }  # fmt: skip
    assert "detect" not in agent or agent["detect"].get("ipv6") is not False


def test_ddns_multi_provider_json(example: Path) -> None:
    config = example / "ddns.json"
    config.write_text(
        """// two providers, as the ddns client's v4.1 layout has them
{
  "$schema": "https://ddns.newfuture.cc/schema/v4.1.json",
  "index4": ["default"],
  "index6": false,
  "providers": [
    {"provider": "noip", "id": "noip-user", "token": "noip-pass", "ipv4": ["a.ddns.net"]},
    {"provider": "cloudflare", "id": "me@example.org", "token": "global-key", "ipv4": "b.example.org"},
    {"provider": "he", "token": "x", "ipv4": ["c.example.org"]}
  ]
}
"""
    )
    done = migrate(example, "--from-ddns", config)
    assert "a.ddns.net via router-dyndns2" in done.stdout and "b.example.org via router-cloudflare" in done.stdout
    assert "c.example.org: service 'he': fleetdns has no provider for it" in done.stdout
    agent = check_outputs(example, ["noip-pass", "global-key"])
    assert agent["detect"] == {"ipv6": False}
    assert agent["providers"]["router-cloudflare"]["api_email"] == "me@example.org"
    assert agent["providers"]["router-dyndns2"]["server"] == "https://dynupdate.no-ip.com"


def test_ddns_ini_form(example: Path) -> None:
    config = example / "ddns.ini"
    config.write_text(
        "; written by hand\n[Settings]\ncheck_interval = 600\nforce_update = 86400\n\n"
        "[home]\nprovider = cloudflare\nusername = token\npassword = cf-token-2\ndomain = home.example.com\n\n"
        "[duck]\nprovider = duckdns\npassword = duck-2\ndomain = mine.duckdns.org\ncolor = blue\n"
    )
    done = migrate(example, "--from-ddns", config)
    out = done.stdout
    assert "home.example.com via router-cloudflare" in out and "mine.duckdns.org via router-duckdns" in out
    assert "ddns.ini:2: force_update=86400: not translated" in out
    assert "ddns.ini:12: [duck] color: not translated" in out
    agent = check_outputs(example, ["cf-token-2", "duck-2"])
    assert agent["interval"] == 600


def test_ddns_bad_json_is_located(example: Path) -> None:
    config = example / "ddns.json"
    config.write_text('{\n  "dns": "cloudflare",\n  "token": \n}\n')
    failed = migrate(example, "--from-ddns", config, code=1)
    assert "ddns.json:4:1: not valid JSON" in failed.stderr
    assert (example / "hosts.yml").read_bytes() == EXAMPLE.read_bytes()
