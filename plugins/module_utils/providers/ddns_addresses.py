"""The addresses a DDNS service can be asked to set, checked before any request goes out.

A DDNS host holds at most one IPv4 and one IPv6 address; some services take only IPv4. An empty set
for a type means "remove that record", which only some services can do.
"""

from __future__ import annotations

import ipaddress

from .base import Addresses
from .update_errors import UpdateRefusedError

FAMILY = {"A": 4, "AAAA": 6}


def one_per_family(service: str, name: str, addresses: Addresses, types: tuple[str, ...]) -> dict[str, str | None]:
    """{record type: its one address, or None to remove it} for the types asked, in canonical form.
    Raises UpdateRefusedError for a type the service does not take, several addresses of one type,
    or a value that is no address of its type."""
    result: dict[str, str | None] = {}
    for rtype, values in addresses.items():
        if rtype not in types:
            raise UpdateRefusedError(
                f"{service} cannot set {rtype} records (asked for {name})",
                f"it sets {', '.join(types)} only",
                "config",
            )
        if len(values) > 1:
            raise UpdateRefusedError(
                f"{service} holds one {rtype} address per name; asked for {len(values)} at {name}",
                "give one address per record type",
                "config",
            )
        value = next(iter(values), None)
        if value is not None:
            try:
                address = ipaddress.ip_address(value)
            except ValueError:
                address = None
            if address is None or address.version != FAMILY[rtype]:
                raise UpdateRefusedError(f"{value!r} is not an {rtype} address (for {name})", "", "config")
            value = str(address)
        result[rtype] = value
    return result


def host_name(name: str) -> str:
    """A name as the services write it: no final dot, lower case."""
    return name.rstrip(".").lower()
