"""providers.base: the declarations a provider class makes, and the update-only kind's
query-update-verify cycle."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.base import (
    NO_STORE,
    UPDATE_ONLY_KIND,
    ZONE_KIND,
    Addresses,
    Capabilities,
    Option,
    UpdateAnswer,
    UpdateOnlyProvider,
    UpdateResult,
    ValueLimits,
    ZoneProvider,
)

NAME = "gw.dyn.test."
ADDRESSES = {"A": frozenset({"192.0.2.7"}), "AAAA": frozenset({"2001:db8::7"})}


def test_capabilities_refuse_an_unknown_ownership_store() -> None:
    with pytest.raises(ValueError, match="ownership_store 'tags' is not one of markers, comments, none"):
        Capabilities(("A",), lists_zone=True, ownership_store="tags", zone_ownership=False)


def test_zone_ownership_needs_a_provider_that_lists_the_zone() -> None:
    with pytest.raises(ValueError, match="zone_ownership needs lists_zone"):
        Capabilities(("A",), lists_zone=False, ownership_store=NO_STORE, zone_ownership=True)


def test_capabilities_are_frozen_and_say_which_types_they_support() -> None:
    caps = Capabilities(("A", "AAAA"), lists_zone=False, ownership_store=NO_STORE, zone_ownership=False)
    assert caps.supports("AAAA") and not caps.supports("TXT")
    assert caps.libraries == () and caps.limits == ValueLimits(None, None)
    with pytest.raises(AttributeError):
        caps.lists_zone = True  # type: ignore[misc]


class Service(UpdateOnlyProvider):
    """A DDNS service stand-in: records what it is asked and makes `dns` answer it (or not)."""

    TYPE = "service"
    OPTIONS: ClassVar[dict[str, Option]] = {}
    CAPABILITIES = Capabilities(("A", "AAAA"), lists_zone=False, ownership_store=NO_STORE, zone_ownership=False)

    def __init__(self, dns: dict[tuple[str, str], frozenset[str]], takes_effect: bool = True) -> None:
        super().__init__("svc", {})
        self.dns = dns
        self.takes_effect = takes_effect
        self.asked: list[tuple[str, dict[str, frozenset[str]]]] = []

    def update(self, name: str, addresses: Addresses) -> UpdateAnswer:
        self.asked.append((name, dict(addresses)))
        if self.takes_effect:
            self.dns.update({(name, rtype): values for rtype, values in addresses.items()})
        return UpdateAnswer(True, dict(addresses), "good")

    def lookup(self, name: str, rtype: str) -> frozenset[str]:
        return self.dns.get((name, rtype), frozenset())


def test_no_request_when_dns_already_has_the_addresses() -> None:
    service = Service({(NAME, "A"): ADDRESSES["A"], (NAME, "AAAA"): ADDRESSES["AAAA"]})
    result = service.set_addresses(NAME, ADDRESSES, service.lookup)
    assert service.asked == []
    assert result == UpdateResult(NAME, ADDRESSES, ADDRESSES, sent=False)
    assert result.changed is False and result.verified is None


def test_a_different_address_is_sent_and_verified_afterwards() -> None:
    service = Service({(NAME, "A"): frozenset({"198.51.100.1"})})
    result = service.set_addresses(NAME, {"A": ADDRESSES["A"]}, service.lookup)
    assert service.asked == [(NAME, {"A": ADDRESSES["A"]})]
    assert result.before == {"A": frozenset({"198.51.100.1"})}
    assert result.sent and result.changed and result.verified is True
    assert result.answer == UpdateAnswer(True, {"A": ADDRESSES["A"]}, "good")


def test_an_update_dns_does_not_show_is_reported_unverified() -> None:
    service = Service({}, takes_effect=False)
    result = service.set_addresses(NAME, ADDRESSES, service.lookup)
    assert len(service.asked) == 1 and result.sent and result.verified is False


def test_a_service_answer_of_no_change_is_not_a_change() -> None:
    result = UpdateResult(NAME, ADDRESSES, {}, sent=True, answer=UpdateAnswer(False, {}, "nochg"), verified=True)
    assert result.changed is False
    unknown = UpdateResult(NAME, ADDRESSES, {}, sent=True, answer=UpdateAnswer(None, {}, "OK"), verified=True)
    assert unknown.changed is True  # sent, and the service did not say it changed nothing


def test_the_kinds_and_their_abstract_methods() -> None:
    assert ZoneProvider.KIND == ZONE_KIND and UpdateOnlyProvider.KIND == UPDATE_ONLY_KIND

    class Incomplete(UpdateOnlyProvider):
        TYPE = "incomplete"
        OPTIONS: ClassVar[dict[str, Option]] = {}

    with pytest.raises(TypeError, match="update"):
        Incomplete("x", {})  # type: ignore[abstract]  # pylint: disable=abstract-class-instantiated

    class HalfZone(ZoneProvider):
        TYPE = "half"
        OPTIONS: ClassVar[dict[str, Option]] = {}

        def read(self, zone: str, wanted: Any) -> Any:
            return None

    with pytest.raises(TypeError, match="apply"):
        HalfZone("x", {})  # type: ignore[abstract]  # pylint: disable=abstract-class-instantiated


def test_option_checks_are_reported_by_declared_problems() -> None:
    class Checked(Service):
        OPTIONS: ClassVar[dict[str, Option]] = {
            "port": Option(int, default=0, check=lambda v: None if v > 0 else "must be positive")
        }

    assert Checked.declared_problems({}) == ["option 'port': must be positive"]
    assert Checked.declared_problems({"port": 53}) == []
