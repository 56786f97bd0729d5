"""Servers that answer, but too slowly: a DNS server that announces a long message and then drips one
byte at a time, an HTTP server that does the same, and the Cloudflare emulator holding its answer.
Each provider ends at its deadline with one clear error naming the server, both through the provider
API and through the real `fleetdns plan`; without the deadline these servers would keep it waiting
for hours (the drip never trips the per-read timeout)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import validate_provider
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError, ProviderError
from ansible_collections.fleetdns.ddns.plugins.module_utils.plan import Change
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare import CloudflareProvider
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare_api import (
    CloudflareClient,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.http_api import AmbiguousWriteError
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.rfc2136 import Rfc2136Provider
from ansible_collections.fleetdns.ddns.plugins.module_utils.records import RecordSet
from emulators.cloudflare import CloudflareEmulator
from lab.drip import DripServer

ZONE = "example.test."
FLEETDNS = Path(sys.executable).parent / "fleetdns"
DEADLINE = 1.5
READ_TIMEOUT = 30  # per read: the drip alone never trips it
ENDS_BY = 15.0  # a run ends long before this (and hours before the drip would finish) when the deadline works


@pytest.fixture
def dns_drip() -> Iterator[DripServer]:
    server = DripServer(b"\xff\xff")  # a 65,535-byte DNS message is announced; one byte of it comes at a time
    yield server
    server.close()


@pytest.fixture(
    params=[
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",  # the body drips
        b"HTTP/1.1 200 OK\r\nX-Slow: ",  # a header drips
    ],
    ids=["body", "headers"],
)
def http_drip(request: pytest.FixtureRequest) -> Iterator[DripServer]:
    server = DripServer(request.param)
    yield server
    server.close()


def rfc2136(port: int) -> Rfc2136Provider:
    return Rfc2136Provider("lab", {"server": "127.0.0.1", "port": port, "timeout": READ_TIMEOUT, "deadline": DEADLINE})


def timed(action) -> tuple[Exception, float]:
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        action()
    return caught.value, time.monotonic() - started


def assert_deadline_error(error: Exception, server: str) -> None:
    text = str(error)
    assert server in text and "deadline" in text and f"{DEADLINE:g} s" in text, text
    assert "\n" not in text


# ---- rfc2136 ------------------------------------------------------------------------------------


def test_rfc2136_read_from_a_dripping_server_ends_at_the_deadline(dns_drip: DripServer) -> None:
    error, elapsed = timed(lambda: rfc2136(dns_drip.port).read(ZONE, set()))
    assert_deadline_error(error, f"127.0.0.1:{dns_drip.port}")
    assert "reading the zone" in str(error)
    assert elapsed < ENDS_BY


def test_rfc2136_apply_to_a_dripping_server_ends_at_the_deadline(dns_drip: DripServer) -> None:
    after = RecordSet(f"gw.{ZONE}", "A", 300, frozenset({"192.0.2.1"}))
    change = Change("create", after.name, "A", None, after, False, False)
    error, elapsed = timed(lambda: rfc2136(dns_drip.port).apply(ZONE, [change], None))
    assert_deadline_error(error, f"127.0.0.1:{dns_drip.port}")
    assert "applying changes" in str(error)
    assert elapsed < ENDS_BY


def test_fleetdns_plan_against_a_dripping_server_is_one_clear_error(tmp_path: Path, dns_drip: DripServer) -> None:
    (tmp_path / "hosts.yml").write_text(
        "all:\n  vars:\n    fleetdns_owner: fleet-main\n    fleetdns_providers:\n"
        f"      lab: {{type: rfc2136, server: 127.0.0.1, port: {dns_drip.port}, timeout: {READ_TIMEOUT}, "
        f"deadline: {DEADLINE}}}\n"
        "    fleetdns_zones:\n      example.test:\n        provider: lab\n"
        "        records:\n          - {name: www, type: A, value: 192.0.2.1}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    proc = subprocess.run(
        [str(FLEETDNS), "plan", "-i", "hosts.yml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # the drip would take hours: this only catches a hang
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert_deadline_error(errors[0], f"127.0.0.1:{dns_drip.port}")


def test_a_deadline_that_is_not_a_positive_number_is_refused_at_its_option() -> None:
    for value in (0, -1, "soon", True):
        with pytest.raises(ConfigError) as caught:
            validate_provider({"type": "rfc2136", "server": "127.0.0.1", "deadline": value}, "lab")
        assert [p.path for p in caught.value.problems] == ["lab.deadline"]


# ---- cloudflare ---------------------------------------------------------------------------------


def cloudflare(base_url: str, **options: object) -> CloudflareProvider:
    opts = {"api_token": "t" * 40, "base_url": base_url, "timeout": READ_TIMEOUT, "deadline": DEADLINE, **options}
    return CloudflareProvider("cf", opts)


def test_cloudflare_read_from_a_dripping_server_ends_at_the_deadline(http_drip: DripServer) -> None:
    with cloudflare(f"http://127.0.0.1:{http_drip.port}/client/v4") as provider:
        error, elapsed = timed(lambda: provider.read(ZONE, set()))
    assert_deadline_error(error, f"127.0.0.1:{http_drip.port}")
    assert http_drip.connections == 1  # a stalled server is not asked again
    assert elapsed < ENDS_BY


def test_cloudflare_write_to_a_dripping_server_is_an_ambiguous_write(http_drip: DripServer) -> None:
    client = CloudflareClient(
        f"http://127.0.0.1:{http_drip.port}/client/v4", {}, [], timeout=READ_TIMEOUT, deadline=DEADLINE
    )
    started = time.monotonic()
    with pytest.raises(AmbiguousWriteError, match=f"deadline of {DEADLINE:g} s"):
        client.request("POST", "/zones/abc/dns_records/batch", body={"posts": []})
    assert time.monotonic() - started < ENDS_BY
    client.close()


def test_cloudflare_over_tls_ends_at_the_deadline_while_the_api_holds_its_answer(tmp_path: Path) -> None:
    """The emulator over TLS holds its answer longer than the deadline: the request ends at the
    deadline (the socket under TLS is shut), it does not wait for the late answer."""
    with CloudflareEmulator(tls_dir=tmp_path / "tls") as cf:
        cf.add_zone("example.test")
        cf.inject(kind="slow", delay=DEADLINE * 4, times=1)
        provider = cloudflare(cf.https_url, api_token=cf.token, ca_bundle=str(cf.ca_file))
        with provider:
            error, _elapsed = timed(lambda: provider.read(ZONE, set()))
        assert_deadline_error(error, cf.https_url.split("/")[2])
        with cloudflare(cf.https_url, api_token=cf.token, ca_bundle=str(cf.ca_file)) as again:
            assert again.read(ZONE, set()).records == {}  # the emulator itself is fine: only slow once
