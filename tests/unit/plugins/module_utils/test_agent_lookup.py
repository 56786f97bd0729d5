from __future__ import annotations

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.agent_lookup import (
    DISAGREE,
    NO_ANSWER,
    AuthoritativeLookup,
)
from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.public_ip_fakes import (
    DnsBehaviour,
    DnsResponder,
)


def responder(servers: list, behaviour: DnsBehaviour) -> tuple[str, int]:
    server = DnsResponder(behaviour)
    servers.append(server)
    return (server.host, server.port)


def test_servers_that_agree(servers: list) -> None:
    one = responder(servers, DnsBehaviour(["8.8.8.8"]))
    two = responder(servers, DnsBehaviour(["8.8.8.8"]))
    lookup = AuthoritativeLookup([one, two])
    assert lookup("gw.example.test.", "A") == {"8.8.8.8"}
    assert lookup.queries == 2
    query = servers[0].queries[0]
    assert not query.flags & 0x0100  # no recursion asked: no cache answers for the servers


def test_servers_that_disagree_never_equal_a_wanted_set(servers: list) -> None:
    lookup = AuthoritativeLookup([responder(servers, DnsBehaviour(["8.8.8.8"])), responder(servers, DnsBehaviour([]))])
    assert lookup("gw.example.test.", "A") == {DISAGREE}


@pytest.mark.parametrize(
    ("behaviour", "why"),
    [
        (DnsBehaviour(mode="silent"), "no answer within 0.3 s"),
        (DnsBehaviour(mode="rcode", rcode="SERVFAIL"), "answered SERVFAIL"),
        (DnsBehaviour(mode="garbage"), "query failed"),
    ],
)
def test_a_server_without_an_answer(servers: list, behaviour: DnsBehaviour, why: str) -> None:
    address = responder(servers, behaviour)
    lookup = AuthoritativeLookup([address], timeout=0.3)
    assert lookup("gw.example.test.", "A") == {NO_ANSWER}
    assert why in lookup.answers("gw.example.test.", "A")[f"{address[0]}:{address[1]}"]


def test_an_empty_answer_is_no_address(servers: list) -> None:
    assert AuthoritativeLookup([responder(servers, DnsBehaviour([]))])("gw.example.test.", "A") == frozenset()
