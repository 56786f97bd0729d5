from __future__ import annotations

import time

import dns.flags
import dns.rdataclass
import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ConfigError
from ansible_collections.fleetdns.ddns.plugins.module_utils.public_ip import (
    PublicIPError,
    Source,
    ask,
    check_address,
    detect,
    sources_from_config,
)
from ansible_collections.fleetdns.ddns.tests.lab.drip import DripServer
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.public_ip_fakes import (
    DnsBehaviour,
    DnsResponder,
    EchoServer,
    closed_port,
)

V4 = "203.0.113.7"
V4_OTHER = "198.51.100.9"
V6 = "2001:db8::7"


def echo(servers: list, body: str, **kwargs) -> EchoServer:
    server = EchoServer(body, **kwargs)
    servers.append(server)
    return server


def responder(servers: list, behaviour: DnsBehaviour, host: str = "127.0.0.1") -> DnsResponder:
    server = DnsResponder(behaviour, host)
    servers.append(server)
    return server


def http_source(name: str, server: EchoServer, family: int = 4, fmt: str = "plain") -> Source:
    return Source(name, "http", family, url=server.url, format=fmt)


def dns_source(name: str, server: DnsResponder, qtype: str = "A", qclass: str = "IN", family: int = 4) -> Source:
    return Source(
        name, "dns", family, server=server.host, port=server.port, qname="myip.test", qtype=qtype, qclass=qclass
    )


def test_three_agreeing_echo_servers(servers) -> None:
    sources = [http_source(f"echo{i}", echo(servers, f"{V4}\n")) for i in range(3)]
    found = detect(sources, 4, timeout=2)
    assert found.address == V4 and found.quorum == 2
    assert [(a.source, a.address, a.error) for a in found.answers] == [(f"echo{i}", V4, None) for i in range(3)]


def test_the_majority_wins_over_one_dissenter(servers) -> None:
    sources = [
        http_source("a", echo(servers, V4)),
        http_source("b", echo(servers, V4_OTHER)),
        http_source("c", echo(servers, V4)),
    ]
    assert detect(sources, 4, timeout=2).address == V4


def test_disagreement_fails_naming_every_answer(servers) -> None:
    sources = [
        http_source("a", echo(servers, V4)),
        http_source("b", echo(servers, V4_OTHER)),
        http_source("c", echo(servers, "garbage")),
    ]
    with pytest.raises(PublicIPError) as caught:
        detect(sources, 4, timeout=2)
    message = str(caught.value)
    assert "do not agree on the public IPv4 address (need 2 of 3 to agree)" in message
    assert f"a: {V4}; b: {V4_OTHER}; c: no answer (answered 'garbage', which is not an IP address)" in message
    assert caught.value.any_answered


def test_a_stalled_source_times_out_without_holding_up_the_rest(servers) -> None:
    sources = [
        http_source("slow", echo(servers, V4_OTHER, delay=3)),
        http_source("a", echo(servers, V4)),
        http_source("b", echo(servers, V4)),
    ]
    started = time.monotonic()
    found = detect(sources, 4, timeout=0.5)
    elapsed = time.monotonic() - started
    assert found.address == V4
    assert found.answers[0].address is None and found.answers[0].error == "timed out after 0.5s"
    assert elapsed < 2.5  # well below the stalled source's 3 s, with room for a busy CI machine


def test_a_source_that_drips_its_answer_is_cut_off_at_the_timeout() -> None:
    """Each byte comes well within the socket timeout; the whole answer never does."""
    drip = DripServer(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", interval=0.1)
    try:
        source = Source("drip", "http", 4, url=f"http://127.0.0.1:{drip.port}/")
        started = time.monotonic()
        with pytest.raises(PublicIPError) as caught:
            detect([source], 4, timeout=0.5)
        assert "drip: no answer (timed out after 0.5s)" in str(caught.value)
        assert time.monotonic() - started < 5  # the drip alone would last hours
    finally:
        drip.close()


def test_a_silent_dns_server_times_out(servers) -> None:
    silent = responder(servers, DnsBehaviour(mode="silent"))
    answer = ask(dns_source("quiet", silent), timeout=0.3)
    assert answer.address is None and answer.error == "timed out after 0.3s"
    assert answer.seconds < 2  # the 0.3 s timeout, with room for a busy CI machine


def test_none_answering_fails_and_says_why_for_each(servers) -> None:
    sources = [
        Source("refused", "http", 4, url=f"http://127.0.0.1:{closed_port()}/"),
        http_source("broken", echo(servers, "oops", status=500)),
        dns_source("dns", responder(servers, DnsBehaviour(mode="rcode", rcode="REFUSED"))),
    ]
    with pytest.raises(PublicIPError) as caught:
        detect(sources, 4, timeout=1)
    message = str(caught.value)
    assert "no source answered with a public IPv4 address" in message
    assert "refused: no answer (connection refused)" in message
    assert "broken: no answer (HTTP status 500 Internal Server Error)" in message
    assert "dns: no answer (DNS error REFUSED)" in message
    assert not caught.value.any_answered


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("<html>Service Unavailable</html>", "'<html>Service Unavailable</html>', which is not an IP address"),
        ("127.0.0.1", "answered 127.0.0.1, which cannot be a public address"),
        ("0.0.0.0", "which cannot be a public address"),
        (V6, f"answered {V6}, an IPv6 address, when asked for IPv4"),
        ("9" * 5000, "answered more than 4096 bytes"),
        ("", "answered '', which is not an IP address"),
    ],
)
def test_garbage_answers_are_not_counted(servers, body: str, error: str) -> None:
    answer = ask(http_source("x", echo(servers, body)), timeout=2)
    assert answer.address is None
    assert error in answer.error


def test_body_formats(servers) -> None:
    trace = "fl=1\nh=127.0.0.1\nip=203.0.113.7\nts=1\nwarp=off\n"
    checkip = f"<html><head><title>Current IP Check</title></head><body>Current IP Address: {V4}</body></html>"
    assert ask(http_source("j", echo(servers, f'{{"ip": "{V4}"}}'), fmt="json"), 2).address == V4
    assert ask(http_source("t", echo(servers, trace), fmt="trace"), 2).address == V4
    assert ask(http_source("h", echo(servers, checkip), fmt="html"), 2).address == V4
    warp = ask(http_source("w", echo(servers, trace.replace("warp=off", "warp=on")), fmt="trace"), 2)
    assert "WARP" in warp.error
    other = ask(http_source("o", echo(servers, trace.replace("h=127.0.0.1", "h=example.com")), fmt="trace"), 2)
    assert "trace is for host 'example.com'" in other.error
    assert "not JSON" in ask(http_source("bad", echo(servers, "ip: 1"), fmt="json"), 2).error


def test_ipv6_over_ipv6_loopback(servers) -> None:
    server = echo(servers, f"{V6}\n", host="::1")
    found = detect([http_source("v6", server, family=6)], 6, timeout=2)
    assert found.address == V6
    v6_dns = responder(servers, DnsBehaviour(values=["2001:db8:0:0::7"], rtype="AAAA"), host="::1")
    assert ask(dns_source("v6dns", v6_dns, qtype="AAAA", family=6), 2).address == V6


def test_dns_tricks_opendns_google_cloudflare(servers) -> None:
    opendns = responder(servers, DnsBehaviour(values=[V4]))
    google = responder(servers, DnsBehaviour(values=["edns0-client-subnet 192.0.2.0/24", V4], rtype="TXT"))
    cloudflare = responder(servers, DnsBehaviour(values=[V4], rtype="TXT"))
    sources = [
        dns_source("opendns", opendns),
        dns_source("google", google, qtype="TXT"),
        dns_source("cloudflare", cloudflare, qtype="TXT", qclass="CH"),
    ]
    found = detect(sources, 4, timeout=2)
    assert found.address == V4 and all(a.address == V4 for a in found.answers)
    [query] = cloudflare.queries
    assert query.question[0].rdclass == dns.rdataclass.CH
    assert not query.flags & dns.flags.RD
    [query] = opendns.queries  # an ordinary query, as dig sends it
    assert query.question[0].rdclass == dns.rdataclass.IN and query.flags & dns.flags.RD


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [
        (DnsBehaviour(mode="garbage"), "bad DNS response"),
        (DnsBehaviour(values=[]), "no A record in the answer"),
        (DnsBehaviour(values=["hello"], rtype="TXT"), "answered 'hello', which is not an IP address"),
        (DnsBehaviour(mode="rcode", rcode="SERVFAIL"), "DNS error SERVFAIL"),
    ],
)
def test_bad_dns_answers(servers, behaviour: DnsBehaviour, error: str) -> None:
    qtype = "TXT" if behaviour.rtype == "TXT" else "A"
    answer = ask(dns_source("d", responder(servers, behaviour), qtype=qtype), timeout=0.5)
    assert answer.address is None and error in answer.error


def test_http_and_dns_sources_vote_together(servers) -> None:
    sources = [
        http_source("web", echo(servers, V4)),
        dns_source("dns", responder(servers, DnsBehaviour(values=[V4]))),
        http_source("liar", echo(servers, V4_OTHER)),
    ]
    assert detect(sources, 4, timeout=2).address == V4


def test_quorum(servers) -> None:
    sources = [http_source("a", echo(servers, V4)), Source("down", "http", 4, url=f"http://127.0.0.1:{closed_port()}/")]
    with pytest.raises(PublicIPError, match="need 2 of 2 to agree"):
        detect(sources, 4, timeout=1)
    assert detect(sources, 4, timeout=1, quorum=1).address == V4
    with pytest.raises(PublicIPError, match="quorum 3 is more than the 2 IPv4 source"):
        detect(sources, 4, timeout=1, quorum=3)
    with pytest.raises(PublicIPError, match="no source is configured for IPv6"):
        detect(sources, 6)


def test_the_interface_source_counts_only_a_public_address() -> None:
    [source] = sources_from_config([{"name": "lan", "type": "interface", "families": ["ipv4"], "target": "127.0.0.1"}])
    answer = ask(source, timeout=1)
    assert answer.address is None
    assert answer.error == "the local address 127.0.0.1 is not public (the host is behind NAT or a private network)"


def test_check_address_canonical_text() -> None:
    assert check_address(" [2001:DB8:0::7]\n", 6) == V6


def test_config_builtin_names_and_mappings() -> None:
    default = sources_from_config(None)
    assert sorted({(s.name, s.family) for s in default}) == [
        ("google", 4),
        ("google", 6),
        ("ipify", 4),
        ("ipify", 6),
        ("opendns", 4),
        ("opendns", 6),
    ]
    [v4] = sources_from_config([{"name": "e", "type": "http", "url": "http://127.0.0.1:8/", "families": "ipv4"}])
    assert (v4.kind, v4.family, v4.format) == ("http", 4, "plain")
    both = sources_from_config([{"name": "d", "type": "dns", "server": "::1", "port": "5353", "qname": "x.test"}])
    assert [(s.family, s.qtype, s.port) for s in both] == [(4, "A", 5353), (6, "AAAA", 5353)]
    assert [s.family for s in sources_from_config(["cloudflare_dns"])] == [4]


def test_config_problems_are_all_reported() -> None:
    with pytest.raises(ConfigError) as caught:
        sources_from_config(
            [
                "ipfy",
                {"name": "e", "type": "http", "url": "ftp://x/"},
                {"name": "d", "type": "dns", "qname": "x"},
                {"name": "p", "type": "dns", "server": "127.0.0.1", "qname": "x", "port": 70000},
                {"name": "t", "type": "dns", "server": "127.0.0.1", "qname": "x", "qtype": "AAAA", "families": "ipv4"},
                {"name": "u", "type": "http", "url": "http://x/", "colour": "red"},
                {"type": "smtp"},
                "ipify",
                "ipify",
            ]
        )
    text = str(caught.value)
    assert "sources[0]: unknown source 'ipfy'; built-in sources are cloudflare_dns, cloudflare_trace" in text
    assert "sources[1]: 'ftp://x/' is not an http:// or https:// URL" in text
    assert "sources[2]: dns source 'd' needs 'server'" in text
    assert "sources[3]: port 70000 is not a port number" in text
    assert "sources[4]: qtype AAAA cannot answer an IPv4 address" in text
    assert "sources[5]: unknown key(s) colour for a http source" in text
    assert "sources[6]: source type 'smtp' is not one of http, dns, interface" in text
    assert "sources[8]: source name 'ipify' is used twice" in text
    assert len(caught.value.problems) == 8
