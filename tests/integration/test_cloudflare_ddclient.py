"""Conformance with a client nobody here wrote: Debian's ddclient 3.10 (`protocol=cloudflare`) updates a
record through the Cloudflare emulator over TLS, and fleetdns's cloudflare provider reads the result.

ddclient hard-codes https, looks the zone up with `GET /zones/?name=`, finds the record with
`GET /zones/<id>/dns_records?type=A&name=<host>` and PATCHes `{"content": "<ip>"}`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.cloudflare import CloudflareProvider
from emulators.cloudflare import CloudflareEmulator

ZONE = "example.test."
HOST = "host1.example.test"
GLOBAL_KEY = "0123456789abcdef0123456789abcdef01234"  # 37 hex digits, the Global API key format
EMAIL = "ops@example.test"


@pytest.fixture
def cf(tmp_path: Path) -> Iterator[CloudflareEmulator]:
    with CloudflareEmulator(tls_dir=tmp_path / "tls") as emulator:
        emulator.zone = emulator.add_zone("example.test")
        emulator.add_global_key(EMAIL, GLOBAL_KEY)
        yield emulator


def ddclient(cf: CloudflareEmulator, tmp_path: Path, ip: str, login: str, password: str) -> subprocess.CompletedProcess:
    """One foreground ddclient run with a 0600 config (one option per line, password last)."""
    binary = shutil.which("ddclient") or "/usr/sbin/ddclient"
    if not os.path.exists(binary):
        pytest.fail("ddclient not found: run `make test` (or `make system-packages`), which installs it", pytrace=False)
    server = cf.https_url.removeprefix("https://")
    config = tmp_path / "ddclient.conf"
    config.write_text(
        "\n".join(
            [
                "daemon=0",
                "ssl=yes",
                f"ssl_ca_file={cf.ca_file}",
                "use=ip",
                f"ip={ip}",
                "protocol=cloudflare",
                f"server={server}",
                "zone=example.test",
                f"login={login}",
                f"password={password}",
                HOST,
                "",
            ]
        )
    )
    config.chmod(0o600)
    cache = tmp_path / "ddclient.cache"
    cache.unlink(missing_ok=True)
    return subprocess.run(
        [binary, "-foreground", "-daemon=0", "-noquiet", "-verbose", "-file", str(config), "-cache", str(cache)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def fleetdns_view(cf: CloudflareEmulator) -> tuple[frozenset[str], str | None]:
    """host1 A as the fleetdns provider reads it: values and owner."""
    options = {k: spec.default for k, spec in CloudflareProvider.OPTIONS.items()}
    options.update(api_token=cf.token, base_url=cf.https_url, ca_bundle=cf.ca_file)
    with CloudflareProvider("cf", options) as provider:
        state = provider.read(ZONE, set())
    key = (HOST + ".", "A")
    return state.records[key].values, state.owners.get(key)


def test_ddclient_with_a_token_patches_the_record_and_fleetdns_sees_it(cf, tmp_path):
    record = cf.add_record(cf.zone, name="host1", type="A", content="192.0.2.1", ttl=300,
                           comment="sensor in the shed fleetdns-owner=fleet-main")  # fmt: skip
    result = ddclient(cf, tmp_path, "192.0.2.4", "token", cf.token)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr

    shapes = [(r["method"], r["path"], r["query"], r.get("body"), r["status"], r["auth"]) for r in cf.requests]
    zone_id, record_id = cf.zone.id, record["id"]
    assert shapes == [
        ("GET", "/client/v4/zones/", {"name": "example.test"}, None, 200, "token"),
        ("GET", f"/client/v4/zones/{zone_id}/dns_records", {"type": "A", "name": HOST}, None, 200, "token"),
        ("PATCH", f"/client/v4/zones/{zone_id}/dns_records/{record_id}", {}, {"content": "192.0.2.4"}, 200, "token"),
    ]
    values, owner = fleetdns_view(cf)
    assert values == frozenset({"192.0.2.4"})
    assert owner == "fleet-main"  # a PATCH of content keeps the comment, so ownership survives the agent
    after = cf.records(cf.zone)[0]
    assert (after["ttl"], after["comment"]) == (300, record["comment"])


def test_ddclient_with_the_global_api_key(cf, tmp_path):
    cf.add_record(cf.zone, name="host1", type="A", content="192.0.2.1")
    result = ddclient(cf, tmp_path, "192.0.2.5", EMAIL, GLOBAL_KEY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {r["auth"] for r in cf.requests} == {"key"}
    assert fleetdns_view(cf)[0] == frozenset({"192.0.2.5"})


def test_ddclient_sending_a_token_as_global_key_is_refused_like_cloudflare_does(cf, tmp_path):
    cf.add_record(cf.zone, name="host1", type="A", content="192.0.2.1")
    result = ddclient(cf, tmp_path, "192.0.2.6", EMAIL, cf.token)
    assert "FAILED" in result.stdout + result.stderr
    assert [(r["status"], r["endpoint"]) for r in cf.requests] == [(400, "zones.list")]
    assert fleetdns_view(cf)[0] == frozenset({"192.0.2.1"})


def test_ddclient_fails_when_the_record_does_not_exist_yet(cf, tmp_path):
    result = ddclient(cf, tmp_path, "192.0.2.4", "token", cf.token)
    assert "No 'A' record at Cloudflare" in result.stdout + result.stderr
    assert [r["endpoint"] for r in cf.requests] == ["zones.list", "dns_records.list"]
