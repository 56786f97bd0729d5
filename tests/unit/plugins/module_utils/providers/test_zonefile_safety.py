"""The zonefile provider against hostile setups: zone files behind symbolic links, lock-file links,
SOA contacts that would break the file, and new text that would not load."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import validate_provider
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError, ProviderError
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import zonefile
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.zonefile import email_to_rname
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.providers.zonefile_helpers import (
    ZONE,
    converge,
    dnspython_view,
    provider,
    rs,
)


def zone_file(tmp_path: Path) -> Path:
    return tmp_path / "zones" / "example.test.zone"


def served_file(tmp_path: Path) -> Path:
    """A zone file that lives elsewhere (the server's directory) and is linked into the inventory's."""
    served = tmp_path / "served" / "db.example.test"
    served.parent.mkdir()
    zone_file(tmp_path).parent.mkdir()
    return served


# ---- symbolic links -----------------------------------------------------------------------------


def test_a_linked_zone_file_updates_its_target_and_stays_a_link(tmp_path: Path) -> None:
    served = served_file(tmp_path)
    prov = provider(tmp_path)
    converge(prov, [rs("web", "A", ["192.0.2.1"])])
    zone_file(tmp_path).rename(served)
    served.chmod(0o640)
    zone_file(tmp_path).symlink_to(os.path.relpath(served, zone_file(tmp_path).parent))

    converge(prov, [rs("web", "A", ["192.0.2.2"])])

    assert zone_file(tmp_path).is_symlink()
    assert zone_file(tmp_path).resolve() == served.resolve()
    assert dnspython_view(served.read_text())[("web.example.test.", "A")].values == {"192.0.2.2"}
    assert stat.S_IMODE(served.stat().st_mode) == 0o640
    assert sorted(p.name for p in served.parent.iterdir()) == [".db.example.test.lock", "db.example.test"]


def test_a_dangling_zone_file_link_creates_its_target(tmp_path: Path) -> None:
    served = served_file(tmp_path)
    zone_file(tmp_path).symlink_to(served)
    converge(provider(tmp_path), [rs("web", "A", ["192.0.2.1"])])
    assert zone_file(tmp_path).is_symlink()
    assert ("web.example.test.", "A") in dnspython_view(served.read_text())


def test_a_lock_file_link_is_refused_and_not_followed(tmp_path: Path) -> None:
    zone_file(tmp_path).parent.mkdir()
    elsewhere = tmp_path / "elsewhere"
    lock = zone_file(tmp_path).parent / ".example.test.zone.lock"
    lock.symlink_to(elsewhere)
    with pytest.raises(ProviderError, match=r"lock file zones/\.example\.test\.zone\.lock is a symbolic link"):
        converge(provider(tmp_path), [rs("web", "A", ["192.0.2.1"])])
    assert not elsewhere.exists()
    assert not zone_file(tmp_path).exists()


# ---- the SOA contact ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "host;master@example.test",
        "host(master@example.test",
        'host"master@example.test',
        "hostmaster@example.test\n",
        "host master@example.test",
        "hostmaster@exa;mple.test",
        "a" * 64 + "@example.test",
    ],
)
def test_a_soa_email_that_would_break_the_file_is_refused_at_its_option(email: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_provider({"type": "zonefile", "soa_email": email}, "fleetdns_providers.files")
    [problem] = caught.value.problems
    assert problem.path == "fleetdns_providers.files.soa_email"
    assert "\n" not in str(problem)


@pytest.mark.parametrize("email", ["hostmaster@example.test", "first.last+dns@example.test.", "o'brien@example.test"])
def test_a_plain_soa_email_is_accepted(email: str) -> None:
    assert validate_provider({"type": "zonefile", "soa_email": email}).options["soa_email"] == email


def test_the_soa_contact_is_escaped_where_the_zone_file_syntax_needs_it(tmp_path: Path) -> None:
    assert email_to_rname("first.last@example.test.") == "first\\.last.example.test."
    assert email_to_rname("a$b@example.test") == "a\\$b.example.test."
    prov = provider(tmp_path, soa_email="o'brien.$x@example.test")
    converge(prov, [rs("web", "A", ["192.0.2.1"])])
    assert prov.load_file(ZONE, str(zone_file(tmp_path))).soa.rname.labels[0] == b"o'brien.$x"


def test_an_unvalidated_bad_soa_email_is_a_clear_error(tmp_path: Path) -> None:
    prov = provider(tmp_path, soa_email="x" * 70 + "@example.test")
    assert any("soa_email" in problem for problem in prov.check_options())
    with pytest.raises(ProviderError, match="soa_email"):
        converge(prov, [rs("web", "A", ["192.0.2.1"])])
    assert not zone_file(tmp_path).exists()


# ---- new text that would not load ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ('"192.0.2.2', r"does not read back .*the old file was kept"),  # a broken file
        ("192.0.2.3", r"reads back differently at web A.*the old file was kept"),  # a file that means otherwise
    ],
    ids=["unreadable", "other-records"],
)
def test_text_that_does_not_read_back_as_meant_is_never_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str, words: str
) -> None:
    prov = provider(tmp_path)
    converge(prov, [rs("web", "A", ["192.0.2.1"])])
    before = zone_file(tmp_path).read_bytes()
    real_render = zonefile.render
    monkeypatch.setattr(zonefile, "render", lambda *args: real_render(*args).replace("192.0.2.2", written))
    with pytest.raises(ProviderError, match=words):
        converge(prov, [rs("web", "A", ["192.0.2.2"])])
    assert zone_file(tmp_path).read_bytes() == before
    assert sorted(p.name for p in zone_file(tmp_path).parent.iterdir()) == [
        ".example.test.zone.lock",
        "example.test.zone",
    ]
