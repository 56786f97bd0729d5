from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils import process_runner
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_config import FamilyDetect
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_detect import (
    detect_all,
    detect_family,
    non_global_reason,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.public_ip import Source
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.public_ip_fakes import EchoServer, closed_port

try:
    from fleetdns.process import run_command
except ImportError:  # under `ansible-test units`: the CLI package lies inside the collection
    from ansible_collections.fleetdns.ddns.fleetdns.process import run_command

PUBLIC = "8.8.8.8"


def echoes(servers: list, *bodies: str) -> list[Source]:
    found = []
    for index, body in enumerate(bodies):
        server = EchoServer(body + "\n")
        servers.append(server)
        found.append(Source(f"echo{index}", "http", 4, url=server.url))
    return found


@pytest.fixture
def runner() -> Iterator[None]:
    process_runner.command_runner = run_command
    yield
    process_runner.command_runner = None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "a private address"),
        ("192.168.0.1", "a private address"),
        ("fd00::1", "a private address"),
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("100.64.0.1", "a carrier-grade NAT address (100.64.0.0/10): the public address is the carrier's"),
        ("100.127.255.254", "a carrier-grade NAT address (100.64.0.0/10): the public address is the carrier's"),
        ("192.0.2.1", "a documentation address"),
        ("198.51.100.1", "a documentation address"),
        ("203.0.113.1", "a documentation address"),
        ("2001:db8::1", "a documentation address"),
        ("224.0.0.1", "not a unicast address"),
        ("0.0.0.0", "not a unicast address"),
        ("240.0.0.1", "not a unicast address"),
        ("8.8.8.8", None),
        ("100.128.0.1", None),
        ("2606:4700::1111", None),
    ],
)
def test_non_global_reason(address: str, reason: str | None) -> None:
    assert non_global_reason(address) == reason


def test_the_majority_of_echo_sources_wins(servers: list) -> None:
    spec = FamilyDetect(4, sources=echoes(servers, PUBLIC, PUBLIC, "1.1.1.1"), timeout=2)
    found = detect_family(spec)
    assert (found.address, found.error) == (PUBLIC, None)
    assert found.how == "sources echo0,echo1,echo2"


def test_disagreeing_sources_publish_nothing(servers: list) -> None:
    found = detect_family(FamilyDetect(4, sources=echoes(servers, PUBLIC, "1.1.1.1", "garbage"), timeout=2))
    assert found.address is None
    assert "do not agree" in found.error and "echo2: no answer" in found.error


def test_sources_agreeing_on_a_private_address_publish_nothing(servers: list) -> None:
    spec = FamilyDetect(4, sources=echoes(servers, "10.0.0.5", "10.0.0.5", PUBLIC), timeout=2)
    found = detect_family(spec)
    assert found.address is None
    assert found.error == "10.0.0.5 is a private address; not published (set allow_non_global: true for LAN-only DNS)"
    assert detect_family(spec, allow_non_global=True).address == "10.0.0.5"


def test_a_cgnat_address_is_not_published(servers: list) -> None:
    found = detect_family(FamilyDetect(4, sources=echoes(servers, "100.72.1.2"), timeout=2))
    assert found.address is None and "carrier-grade NAT" in found.error


def test_the_families_are_detected_independently(servers: list) -> None:
    v6_down = [Source("gone", "http", 6, url=f"http://[::1]:{closed_port('::1')}/")]
    found = detect_all(
        {4: FamilyDetect(4, sources=echoes(servers, PUBLIC), timeout=2), 6: FamilyDetect(6, sources=v6_down, timeout=1)}
    )
    assert found[4].address == PUBLIC
    assert found[6].address is None and "gone: no answer" in found[6].error


def test_a_static_address_is_used_as_given_but_still_checked() -> None:
    assert detect_family(FamilyDetect(6, static="2606:4700::1")).address == "2606:4700::1"
    assert "documentation address" in detect_family(FamilyDetect(4, static="192.0.2.7")).error


@pytest.mark.usefixtures("runner")
@pytest.mark.parametrize(
    ("script", "address", "error"),
    [
        ("print('  8.8.4.4  extra words\\nsecond line')", "8.8.4.4", None),
        ("print('[2606:4700::1]')", None, "an IPv6 address, for IPv4"),
        ("print('not an address')", None, "printed 'not', which is not an IP address"),
        ("pass", None, "printed nothing"),
        ("import sys; print('boom'); sys.exit(3)", None, "exited with 3: boom"),
        ("print('10.0.0.1')", None, "10.0.0.1 is a private address"),
        ("import time; time.sleep(5)", None, "ran past 0.5 s"),
    ],
)
def test_the_command_source(script: str, address: str | None, error: str | None) -> None:
    found = detect_family(FamilyDetect(4, command=(sys.executable, "-c", script), timeout=0.5))
    assert found.address == address
    if error:
        assert error in found.error
    assert found.how == f"command {sys.executable}"


def test_a_command_that_does_not_exist(runner: None) -> None:
    found = detect_family(FamilyDetect(4, command=("/nonexistent/wan-ip",)))
    assert found.address is None and "cannot run /nonexistent/wan-ip" in found.error


def test_a_command_source_without_a_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_runner, "command_runner", None)  # as a front that cannot run programs
    found = detect_family(FamilyDetect(4, command=("wan-ip",)))
    assert found.error == "command sources need a front that can run programs (the fleetdns CLI)"


# ---- the interface detection


def held(address: str, *flags: str, interface: str = "eth0", scope: str = "global", preferred: int | None = None):
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_platform import InterfaceAddress

    family = 6 if ":" in address else 4
    return InterfaceAddress(interface, address, family, 64, scope, frozenset(flags), preferred, preferred)


def test_temporary_deprecated_tentative_and_link_local_ipv6_addresses_are_skipped() -> None:
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_detect import choose_interface_address

    addresses = [
        held("2001:4860::aaaa", "temporary", preferred=86000),
        held("2001:4860::bbbb", "deprecated", preferred=0),
        held("2001:4860::cccc", preferred=0),  # deprecated by its lifetime alone
        held("2001:4860::dddd", "tentative"),
        held("2001:4860::eeee", "dadfailed"),
        held("fe80::1", "permanent", scope="link"),
        held("2001:4860::1", "mngtmpaddr", preferred=3600),  # the stable SLAAC address
    ]
    assert choose_interface_address(addresses, 6) == ("2001:4860::1", None)
    none, why = choose_interface_address(addresses[:6], 6)
    assert none is None
    assert "2001:4860::aaaa on eth0: a temporary (privacy) address" in why
    assert "2001:4860::bbbb on eth0: deprecated" in why and "2001:4860::cccc on eth0: deprecated" in why
    assert "tentative" in why and "duplicate" in why and "fe80::1 on eth0: of link scope" in why


def test_a_configured_address_wins_then_the_longest_preferred_lifetime() -> None:
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_detect import choose_interface_address

    slaac = [held("2001:4860::5", preferred=600), held("2001:4860::4", preferred=7200)]
    assert choose_interface_address(slaac, 6) == ("2001:4860::4", None)
    assert choose_interface_address([*slaac, held("2001:4860::9", "permanent")], 6) == ("2001:4860::9", None)


def test_the_interface_detection_keeps_to_its_interface_and_family() -> None:
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_detect import choose_interface_address

    addresses = [held("8.8.4.4", "permanent", interface="wan"), held("2001:4860::1", interface="lan"),
                 held("127.0.0.1", "permanent", interface="lo", scope="host")]  # fmt: skip
    assert choose_interface_address(addresses, 4, "wan") == ("8.8.4.4", None)
    assert choose_interface_address(addresses, 6, "wan") == (None, "interface wan holds no IPv6 address")
    assert choose_interface_address(addresses, 6) == ("2001:4860::1", None)
    assert choose_interface_address(addresses[2:], 4) == (None, "any interface holds no IPv4 address")


def test_private_interface_addresses_only_when_allowed_and_global_ones_first() -> None:
    from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_detect import choose_interface_address

    lan = [held("fd00::1", "permanent"), held("192.168.1.5", "permanent")]
    address, why = choose_interface_address(lan, 6)
    assert address is None and "fd00::1 on eth0: a private address" in why
    assert choose_interface_address(lan, 6, allow_non_global=True) == ("fd00::1", None)
    both = [*lan, held("2001:4860::7", preferred=60)]
    assert choose_interface_address(both, 6, allow_non_global=True) == ("2001:4860::7", None)


def test_the_interface_mode_through_detect_family(monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible_collections.fleetdns.ddns.plugins.module_utils import agent_platform

    monkeypatch.setattr(agent_platform, "interface_addresses", lambda: [held("2001:4860::1", "permanent")])
    found = detect_family(FamilyDetect(6, interface="eth0"))
    assert (found.address, found.how, found.error) == ("2001:4860::1", "interface eth0", None)
    monkeypatch.setattr(agent_platform, "interface_addresses", lambda: None)  # Windows, macOS: no netlink
    found = detect_family(FamilyDetect(6, interface="*"))
    assert found.address is None and found.how == "interface (any)" and "needs netlink (Linux)" in found.error
