from __future__ import annotations

import pytest
from ansible_collections.fleetdns.ddns.plugins.modules.public_ip_info import main
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.public_ip_fakes import (
    DnsBehaviour,
    DnsResponder,
    EchoServer,
    closed_port,
)

V4 = "203.0.113.7"
V6 = "2001:db8::7"


def http(servers: list, name: str, body: str, host: str = "127.0.0.1", families: tuple = ("ipv4",)) -> dict:
    server = EchoServer(body, host=host)
    servers.append(server)
    return {"name": name, "type": "http", "url": server.url, "families": list(families)}


def dns(servers: list, name: str, values: list[str], rtype: str = "A", host: str = "127.0.0.1") -> dict:
    server = DnsResponder(DnsBehaviour(values=values, rtype=rtype), host)
    servers.append(server)
    family = "ipv6" if ":" in host else "ipv4"
    return {
        "name": name,
        "type": "dns",
        "server": host,
        "port": server.port,
        "qname": "myip.test",
        "families": [family],
    }


def test_both_families_from_agreeing_sources(servers, run_module) -> None:
    sources = [
        http(servers, "web4", V4),
        dns(servers, "dns4", [V4]),
        http(servers, "web6", V6, host="::1", families=("ipv6",)),
        dns(servers, "dns6", [V6], rtype="AAAA", host="::1"),
    ]
    result = run_module(main, {"sources": sources, "ipv6": "required", "timeout": 2})
    assert (result["ipv4"], result["ipv6"], result["changed"]) == (V4, V6, False)
    assert [(s["name"], s["family"], s["address"]) for s in result["sources"]] == [
        ("web4", "ipv4", V4),
        ("dns4", "ipv4", V4),
        ("web6", "ipv6", V6),
        ("dns6", "ipv6", V6),
    ]


def test_disagreement_fails_with_every_answer(servers, run_module) -> None:
    sources = [http(servers, "a", V4), http(servers, "b", "198.51.100.9"), dns(servers, "c", ["192.0.2.44"])]
    result = run_module(main, {"sources": sources, "timeout": 2})
    assert result["failed"] is True
    assert result["msg"].startswith("ipv4: the sources do not agree on the public IPv4 address (need 2 of 3")
    assert "a: 203.0.113.7; b: 198.51.100.9; c: 192.0.2.44" in result["msg"]
    assert len(result["sources"]) == 3


def test_optional_ipv6_without_connectivity_is_null_but_required_fails(servers, run_module) -> None:
    down = {"name": "v6-down", "type": "http", "url": f"http://[::1]:{closed_port('::1')}/", "families": ["ipv6"]}
    sources = [http(servers, "web4", V4), down]
    optional = run_module(main, {"sources": sources, "quorum": 1, "timeout": 2})
    assert (optional["ipv4"], optional["ipv6"]) == (V4, None)
    assert optional["sources"][1]["error"] == "connection refused"
    required = run_module(main, {"sources": sources, "quorum": 1, "ipv6": "required", "timeout": 2})
    assert required["failed"] is True
    assert required["msg"] == (
        "ipv6: no source answered with a public IPv6 address: v6-down: no answer (connection refused) "
        "(hint: check the host's connectivity for this family, or the sources and timeout)"
    )


def test_skip_and_check_mode(servers, run_module) -> None:
    sources = [http(servers, "web6", V6, host="::1", families=("ipv6",))]
    result = run_module(main, {"sources": sources, "ipv4": "skip", "ipv6": "required"}, check_mode=True)
    assert (result["ipv4"], result["ipv6"]) == (None, V6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"sources": ["nope"]}, "invalid sources:\nsources[0]: unknown source 'nope'"),
        ({"sources": [{"name": "x", "type": "http"}]}, "sources[0]: http source 'x' needs 'url'"),
        ({"timeout": 0}, "timeout must be more than 0 seconds"),
        ({"quorum": 0}, "quorum must be at least 1"),
        ({"ipv4": "sometimes"}, "value of ipv4 must be one of: required, optional, skip"),
        ({"sources": ["cloudflare_dns"], "ipv4": "skip", "ipv6": "required"}, "ipv6: none of the sources serves"),
    ],
)
def test_bad_arguments_fail_with_one_clear_message(run_module, args: dict, message: str) -> None:
    result = run_module(main, args)
    assert result["failed"] is True
    assert message in result["msg"]
