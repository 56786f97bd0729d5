"""The dyndns2 emulator is as strict as No-IP and Dyn document: auth, User-Agent, host names, myip,
offline, return-code lines and the block after repeated nochg."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

try:
    from emulators.dyndns2 import Dyndns2Emulator
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.emulators.dyndns2 import Dyndns2Emulator

USER, PASSWORD = "owner@example.test", "key-0123"
HOME, SHED = "home.example.test", "shed.example.test"
CREDS = (USER, PASSWORD)


@pytest.fixture
def noip() -> Iterator[Dyndns2Emulator]:
    with Dyndns2Emulator(flavour="noip", nochg_limit=2) as emulator:
        emulator.add_account(USER, PASSWORD, hosts=[HOME, SHED])
        yield emulator


@pytest.fixture
def dyn() -> Iterator[Dyndns2Emulator]:
    with Dyndns2Emulator(flavour="dyn") as emulator:
        emulator.add_account(USER, PASSWORD, hosts=[HOME])
        emulator.add_account("other", "pw", hosts=["theirs.example.test"])
        yield emulator


def update(fetch, emulator, auth=CREDS, path="/nic/update", **query):
    query.setdefault("hostname", HOME)
    return fetch(f"{emulator.http_url}{path}?{urlencode(query)}", auth=auth)


def test_good_then_nochg_with_the_address(fetch, noip):
    assert update(fetch, noip, myip="192.0.2.1")[:2] == (200, "good 192.0.2.1")
    assert update(fetch, noip, myip="192.0.2.1")[:2] == (200, "nochg 192.0.2.1")
    assert noip.address(HOME) == ("192.0.2.1", None)


def test_answers_are_text_plain(fetch, noip):
    headers = update(fetch, noip, myip="192.0.2.1")[2]
    assert headers["Content-Type"].startswith("text/plain")


def test_no_credentials_is_a_401_challenge(fetch, noip):
    status, body, headers = update(fetch, noip, auth=None, myip="192.0.2.1")
    assert (status, body) == (401, "authentication required")
    assert headers["WWW-Authenticate"].startswith("Basic realm=")
    assert noip.address(HOME) == (None, None)


@pytest.mark.parametrize("auth", [(USER, "wrong"), ("nobody@example.test", PASSWORD)])
def test_wrong_credentials_answer_badauth_once(fetch, noip, auth):
    assert update(fetch, noip, auth=auth, hostname=f"{HOME},{SHED}", myip="192.0.2.1")[:2] == (200, "badauth")
    assert noip.address(HOME) == (None, None)


def test_garbled_authorization_is_a_challenge(noip):
    request = urllib.request.Request(
        f"{noip.http_url}/nic/update?hostname={HOME}",
        headers={"Authorization": "Basic !!!not-base64", "User-Agent": "x/1"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 401


@pytest.mark.parametrize("agent", [None, "", "   ", "NoVersionClient", "python-requests/2.32.3", "curl/8.5.0"])
def test_user_agent_rule(fetch, noip, agent):
    url = f"{noip.http_url}/nic/update?hostname={HOME}&myip=192.0.2.1"
    assert fetch(url, auth=CREDS, agent=agent)[:2] == (200, "badagent")
    assert noip.address(HOME) == (None, None)


def test_blocked_agent_list(fetch):
    with Dyndns2Emulator(blocked_agents=("BadRouter",)) as emulator:
        emulator.add_account(USER, PASSWORD, hosts=[HOME])
        url = f"{emulator.http_url}/nic/update?hostname={HOME}&myip=192.0.2.1"
        assert fetch(url, auth=CREDS, agent="BadRouter - R1 - 1.0")[1] == "badagent"
        assert fetch(url, auth=CREDS, agent="GoodRouter - R1 - 1.0")[1] == "good 192.0.2.1"


def test_missing_or_empty_hostname_is_notfqdn_once(fetch, noip):
    assert fetch(f"{noip.http_url}/nic/update?myip=192.0.2.1", auth=CREDS)[1] == "notfqdn"
    assert update(fetch, noip, hostname="", myip="192.0.2.1")[1] == "notfqdn"


def test_more_than_20_hosts_is_numhost(fetch, noip):
    names = ",".join(f"h{i}.example.test" for i in range(21))
    assert update(fetch, noip, hostname=names, myip="192.0.2.1")[1] == "numhost"


def test_one_line_per_host_in_order(fetch, noip):
    body = update(fetch, noip, hostname=f"{SHED},bad_name,unknown.example.test,{HOME}", myip="192.0.2.1")[1]
    assert body.split("\n") == ["good 192.0.2.1", "notfqdn", "nohost", "good 192.0.2.1"]


@pytest.mark.parametrize("name", ["localhost", "-bad.example.test", "a..b.test", "x" * 64 + ".test"])
def test_not_fully_qualified_names(fetch, noip, name):
    assert update(fetch, noip, hostname=name, myip="192.0.2.1")[1] == "notfqdn"


def test_ipv4_and_ipv6_in_one_myip(fetch, noip):
    assert update(fetch, noip, myip="192.0.2.1,2001:db8::1")[1] == "good 192.0.2.1,2001:db8::1"
    assert noip.address(HOME) == ("192.0.2.1", "2001:db8::1")
    assert update(fetch, noip, myip="2001:DB8:0::2")[1] == "good 2001:db8::2"  # canonical form
    assert noip.address(HOME) == ("192.0.2.1", "2001:db8::2")


def test_no_myip_takes_the_callers_address(fetch, noip):
    assert update(fetch, noip)[1] == "good 127.0.0.1"
    assert update(fetch, noip, myip="")[1] == "nochg 127.0.0.1"


@pytest.mark.parametrize("myip", ["192.0.2.300", "example.test", "192.0.2.1,192.0.2.2", "2001:db8::1,2001:db8::2"])
def test_invalid_myip_is_refused_and_changes_nothing(fetch, noip, myip):
    assert update(fetch, noip, myip=myip)[:2] == (400, "invalid myip")
    assert noip.address(HOME) == (None, None)


def test_offline_needs_a_paid_account(fetch, noip):
    assert update(fetch, noip, myip="192.0.2.1", offline="YES")[1] == "!donator"
    noip.accounts[USER].donator = True
    assert update(fetch, noip, myip="192.0.2.1", offline="YES")[1] == "good 192.0.2.1"
    assert noip.host(HOME).offline


def test_repeated_nochg_blocks_the_host_with_abuse(fetch, noip):
    """The documented rate rule: excessive nochg answers get the host blocked (limit 2 in this fixture)."""
    update(fetch, noip, myip="192.0.2.1")
    assert [update(fetch, noip, myip="192.0.2.1")[1] for _unused in range(3)] == [
        "nochg 192.0.2.1", "nochg 192.0.2.1", "abuse",
    ]  # fmt: skip
    assert update(fetch, noip, myip="192.0.2.9")[1] == "abuse"  # blocked: even a real change is refused
    assert noip.address(HOME) == ("192.0.2.1", None)
    assert update(fetch, noip, hostname=SHED, myip="192.0.2.1")[1] == "good 192.0.2.1"  # only that host


def test_a_change_resets_the_nochg_streak(fetch, noip):
    update(fetch, noip, myip="192.0.2.1")
    update(fetch, noip, myip="192.0.2.1")
    update(fetch, noip, myip="192.0.2.2")
    assert update(fetch, noip, myip="192.0.2.2")[1] == "nochg 192.0.2.2"
    assert update(fetch, noip, myip="192.0.2.2")[1] == "nochg 192.0.2.2"


def test_unknown_path_is_404(fetch, noip):
    assert update(fetch, noip, path="/v3/update", myip="192.0.2.1")[0] == 404  # No-IP has no v3 path
    assert update(fetch, noip, path="/update", myip="192.0.2.1")[0] == 404


def test_post_is_permitted(fetch, noip):
    url = f"{noip.http_url}/nic/update"
    assert fetch(url, auth=CREDS, data=f"hostname={HOME}&myip=192.0.2.5".encode())[1] == "good 192.0.2.5"


def test_dyn_v3_path_badsys_and_not_yours(fetch, dyn):
    assert update(fetch, dyn, path="/v3/update", myip="192.0.2.1")[1] == "good 192.0.2.1"
    assert update(fetch, dyn, system="bogus", myip="192.0.2.1")[1] == "badsys"
    assert update(fetch, dyn, hostname="theirs.example.test", myip="192.0.2.1")[1] == "!yours"


def test_dyn_lists_one_address(fetch, dyn):
    assert update(fetch, dyn, myip="192.0.2.1,2001:db8::1")[1] == "good 192.0.2.1"
    assert dyn.address(HOME) == ("192.0.2.1", "2001:db8::1")


def test_unknown_flavour_is_refused():
    with pytest.raises(ValueError, match="flavour"):
        Dyndns2Emulator(flavour="dyndns")


@pytest.mark.parametrize("code", ["911", "dnserr", "abuse", "numhost"])
def test_injected_answers(fetch, noip, code):
    noip.inject(kind="body", body=code)
    assert update(fetch, noip, myip="192.0.2.1")[:2] == (200, code)
    assert noip.address(HOME) == (None, None)
    assert update(fetch, noip, myip="192.0.2.1")[1] == "good 192.0.2.1"  # once only


def test_requests_are_logged_without_credentials(fetch, noip):
    update(fetch, noip, myip="192.0.2.1")
    (entry,) = noip.requests
    assert entry["query"] == {"hostname": HOME, "myip": "192.0.2.1"}
    assert PASSWORD not in repr(noip.requests)
    assert noip.counts["update"] == 1
