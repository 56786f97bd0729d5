"""The host's public address as the outside sees it, from several independent sources.

Sources are HTTP echo services (the body holds the caller's address), DNS tricks (a server that
answers with the address the query came from) and the local interface that routes outwards. All
sources of one address family are asked at once, each with its own timeout; an address is
accepted only when at least `quorum` of them (default: more than half) report the same one.
Otherwise PublicIPError says what every source answered.

Plain Python (standard library; dnspython for DNS sources), no Ansible: the agent reuses it.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, FleetDNSError, Problem, shorten

try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()

FAMILIES = (4, 6)
MAX_BODY = 4096  # a real echo answer is a few hundred bytes at most
DEFAULT_TIMEOUT = 5.0
USER_AGENT = "fleetdns-public-ip/0.1"
HTTP_FORMATS = ("plain", "json", "trace", "html")
# Documentation-only targets: routing towards them selects the outgoing interface; nothing is sent.
INTERFACE_TARGETS = {4: "192.0.2.1", 6: "2001:db8::1"}


class PublicIPError(FleetDNSError):
    """No address reached the quorum; the message lists every source's answer."""

    def __init__(self, message: str, hint: str = "", answers: list[Answer] | None = None) -> None:
        super().__init__(message, hint)
        self.answers = list(answers or [])

    @property
    def any_answered(self) -> bool:
        """False when no source gave an address at all (e.g. the host has no IPv6 connectivity)."""
        return any(a.address for a in self.answers)


@dataclass(frozen=True)
class Source:
    """One way to learn the public address of one family.

    kind 'http': GET `url` over that family, parse the body by `format`.
    kind 'dns': ask `server` (address or host name) on `port` for `qname`/`qtype`/`qclass` over
    that family; the answer (A/AAAA address or TXT text) is the address.
    kind 'interface': the local address of the route towards `target`; counts only when public.
    """

    name: str
    kind: str
    family: int
    url: str = ""
    format: str = "plain"
    server: str = ""
    port: int = 53
    qname: str = ""
    qtype: str = ""
    qclass: str = "IN"
    target: str = ""


@dataclass(frozen=True)
class Answer:
    """What one source said: an address, or why it gave none."""

    source: str
    family: int
    address: str | None
    error: str | None
    seconds: float

    def describe(self) -> str:
        return self.address if self.address else f"no answer ({self.error})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.source,
            "family": f"ipv{self.family}",
            "address": self.address,
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Detection:
    """The outcome for one family: the agreed address (or None) and every answer."""

    family: int
    address: str | None
    quorum: int
    answers: list[Answer] = field(default_factory=list)


# Well-known public address echo services. A name expands to one source per family it serves.
_BUILTIN: dict[str, dict[int, Source]] = {
    "ipify": {
        4: Source("ipify", "http", 4, url="https://api4.ipify.org"),
        6: Source("ipify", "http", 6, url="https://api6.ipify.org"),
    },
    "icanhazip": {
        4: Source("icanhazip", "http", 4, url="https://icanhazip.com"),
        6: Source("icanhazip", "http", 6, url="https://icanhazip.com"),
    },
    "cloudflare_trace": {
        4: Source("cloudflare_trace", "http", 4, url="https://www.cloudflare.com/cdn-cgi/trace", format="trace"),
        6: Source("cloudflare_trace", "http", 6, url="https://www.cloudflare.com/cdn-cgi/trace", format="trace"),
    },
    "dyndns_checkip": {
        4: Source("dyndns_checkip", "http", 4, url="http://checkip.dyndns.org/", format="html"),
    },
    "opendns": {
        4: Source("opendns", "dns", 4, server="resolver1.opendns.com", qname="myip.opendns.com", qtype="A"),
        6: Source(
            "opendns", "dns", 6, server="resolver1.ipv6-sandbox.opendns.com", qname="myip.opendns.com", qtype="AAAA"
        ),
    },
    "google": {
        4: Source("google", "dns", 4, server="ns1.google.com", qname="o-o.myaddr.l.google.com", qtype="TXT"),
        6: Source("google", "dns", 6, server="ns1.google.com", qname="o-o.myaddr.l.google.com", qtype="TXT"),
    },
    "cloudflare_dns": {
        4: Source("cloudflare_dns", "dns", 4, server="1.1.1.1", qname="whoami.cloudflare", qtype="TXT", qclass="CH"),
    },
    "interface": {
        4: Source("interface", "interface", 4, target=INTERFACE_TARGETS[4]),
        6: Source("interface", "interface", 6, target=INTERFACE_TARGETS[6]),
    },
}
DEFAULT_SOURCES = ("ipify", "opendns", "google")


def builtin_names() -> list[str]:
    return sorted(_BUILTIN)


def sources_from_config(entries: list[Any] | None) -> list[Source]:
    """Sources from user configuration: built-in names and/or mappings (see source_from_dict).

    None or an empty list gives the defaults. Raises ConfigError listing every problem.
    """
    if not entries:
        entries = list(DEFAULT_SOURCES)
    problems: list[Problem] = []
    sources: list[Source] = []
    names: set[str] = set()
    for index, entry in enumerate(entries):
        path = f"sources[{index}]"
        try:
            found = _builtin(entry) if isinstance(entry, str) else source_from_dict(entry)
        except ValueError as exc:
            problems.append(Problem(str(exc), path))
            continue
        name = found[0].name
        if name in names:
            problems.append(Problem(f"source name {name!r} is used twice", path, "give each source its own name"))
            continue
        names.add(name)
        sources.extend(found)
    if problems:
        raise ConfigError(problems)
    return sources


def _builtin(name: str) -> list[Source]:
    if name not in _BUILTIN:
        raise ValueError(
            f"unknown source {name!r}; built-in sources are {', '.join(builtin_names())}, "
            "or give a mapping with type http, dns or interface"
        )
    return list(_BUILTIN[name].values())


_KEYS = {
    "http": ("name", "type", "families", "url", "format"),
    "dns": ("name", "type", "families", "server", "port", "qname", "qtype", "qclass"),
    "interface": ("name", "type", "families", "target"),
}


def source_from_dict(data: Any) -> list[Source]:
    """Sources (one per family) from a mapping like
    {name: echo, type: http, url: http://127.0.0.1:8080/, format: plain, families: [ipv4]} or
    {name: resolver, type: dns, server: 127.0.0.1, port: 5353, qname: myip.test, qtype: A}.
    """
    if not isinstance(data, dict):
        raise ValueError(f"{data!r} is neither a built-in source name nor a mapping")
    kind = data.get("type")
    if kind not in _KEYS:
        raise ValueError(f"source type {kind!r} is not one of http, dns, interface")
    unknown = sorted(set(data) - set(_KEYS[kind]))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(map(str, unknown))} for a {kind} source")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("a source needs a name")
    families = _families(data.get("families", ["ipv4", "ipv6"]))
    if kind == "http":
        url = _text(data, "url", required=True)
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        fmt = _text(data, "format") or "plain"
        if fmt not in HTTP_FORMATS:
            raise ValueError(f"format {fmt!r} is not one of {', '.join(HTTP_FORMATS)}")
        return [Source(name, kind, family, url=url, format=fmt) for family in families]
    if kind == "dns":
        server = _text(data, "server", required=True)
        qname = _text(data, "qname", required=True)
        port = data.get("port", 53)
        if isinstance(port, str) and port.isdigit():
            port = int(port)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"port {port!r} is not a port number")
        qclass = (_text(data, "qclass") or "IN").upper()
        if qclass not in ("IN", "CH"):
            raise ValueError(f"qclass {qclass!r} is not IN or CH")
        qtype = (_text(data, "qtype") or "").upper()
        if qtype not in ("", "A", "AAAA", "TXT"):
            raise ValueError(f"qtype {qtype!r} is not A, AAAA or TXT")
        result = []
        for family in families:
            rtype = qtype or ("A" if family == 4 else "AAAA")
            if rtype == ("AAAA" if family == 4 else "A"):
                raise ValueError(f"qtype {rtype} cannot answer an IPv{family} address; use families or qtype TXT")
            result.append(Source(name, kind, family, server=server, port=port, qname=qname, qtype=rtype, qclass=qclass))
        return result
    target = _text(data, "target")
    return [Source(name, kind, family, target=target or INTERFACE_TARGETS[family]) for family in families]


def _families(value: Any) -> list[int]:
    items = value if isinstance(value, list) else [value]
    result = []
    for item in items:
        text = str(item).lower().replace("ipv", "")
        if text not in ("4", "6"):
            raise ValueError(f"family {item!r} is not ipv4 or ipv6")
        if int(text) not in result:
            result.append(int(text))
    if not result:
        raise ValueError("families is empty")
    return result


def _text(data: dict, key: str, required: bool = False) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise ValueError(f"{data.get('type')} source {data.get('name')!r} needs {key!r}")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key} {value!r} is not a string")
    return value


def detect(
    sources: list[Source], family: int, timeout: float = DEFAULT_TIMEOUT, quorum: int | None = None
) -> Detection:
    """Ask every source of `family` at once; the address at least `quorum` of them agree on.

    Raises PublicIPError (naming each source's answer) when no address reaches the quorum.
    """
    mine = [s for s in sources if s.family == family]
    if not mine:
        raise PublicIPError(f"no source is configured for IPv{family}")
    needed = quorum if quorum else len(mine) // 2 + 1
    if needed > len(mine):
        raise PublicIPError(
            f"quorum {needed} is more than the {len(mine)} IPv{family} source(s) configured",
            "lower the quorum or add sources",
        )
    answers = ask_all(mine, timeout)
    votes: dict[str, int] = {}
    for answer in answers:
        if answer.address:
            votes[answer.address] = votes.get(answer.address, 0) + 1
    best = max(votes.items(), key=lambda item: item[1], default=None)
    if best and best[1] >= needed:
        return Detection(family, best[0], needed, answers)
    listing = "; ".join(f"{a.source}: {a.describe()}" for a in answers)
    if not votes:
        what = f"no source answered with a public IPv{family} address"
        hint = "check the host's connectivity for this family, or the sources and timeout"
    else:
        what = f"the sources do not agree on the public IPv{family} address (need {needed} of {len(mine)} to agree)"
        hint = "a proxy, VPN or split routing may show different addresses to different services"
    raise PublicIPError(f"{what}: {listing}", hint, answers)


def ask_all(sources: list[Source], timeout: float) -> list[Answer]:
    """Every source's answer, asked in parallel; a source still busy after `timeout` has timed out.

    Daemon threads, so a source stuck in the system resolver cannot hold up the caller or its exit.
    """
    results: list[Answer | None] = [None] * len(sources)

    def work(index: int, source: Source) -> None:
        results[index] = ask(source, timeout)

    threads = [
        threading.Thread(target=work, args=(index, source), name=f"public-ip-{source.name}", daemon=True)
        for index, source in enumerate(sources)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    deadline = started + timeout + 0.25  # the sockets time out by themselves; this is the backstop
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    late = time.monotonic() - started
    return [
        answer or Answer(source.name, source.family, None, f"timed out after {timeout:g}s", late)
        for source, answer in zip(sources, results, strict=True)
    ]


def ask(source: Source, timeout: float) -> Answer:
    """One source's answer; never raises (errors become the answer's `error`)."""
    started = time.monotonic()
    try:
        if source.kind == "http":
            address = _parse_http(source, _http_get(source.url, source.family, timeout))
        elif source.kind == "dns":
            address = _ask_dns(source, timeout)
        else:
            address = _interface_address(source)
        address = check_address(address, source.family)
        return Answer(source.name, source.family, address, None, time.monotonic() - started)
    except _SourceError as exc:
        return Answer(source.name, source.family, None, str(exc), time.monotonic() - started)
    except TimeoutError:
        return Answer(source.name, source.family, None, f"timed out after {timeout:g}s", time.monotonic() - started)
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        return Answer(source.name, source.family, None, _os_error(exc), time.monotonic() - started)


class _SourceError(Exception):
    """A source answered, but not with something usable."""


def check_address(text: str, family: int) -> str:
    """Canonical text of a public-looking address of `family`, or _SourceError saying why not."""
    candidate = text.strip().strip("[]")
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        raise _SourceError(f"answered {shorten(text)!r}, which is not an IP address") from None
    if address.version != family:
        raise _SourceError(f"answered {address}, an IPv{address.version} address, when asked for IPv{family}")
    if address.is_unspecified or address.is_loopback or address.is_multicast or address.is_link_local:
        raise _SourceError(f"answered {address}, which cannot be a public address")
    return str(address)


def _os_error(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not valid ({exc.verify_message})"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


# HTTP ---------------------------------------------------------------------------------------


def _connect(host: str, port: int, family: int, timeout: float) -> socket.socket:
    """A TCP connection to `host` over exactly this family (the echo must see that family)."""
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    infos = socket.getaddrinfo(host, port, af, socket.SOCK_STREAM)
    last: OSError | None = None
    for af_, kind, proto, _canon, address in infos:
        sock = socket.socket(af_, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise last or OSError(f"{host} has no IPv{family} address")


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int | None, family: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._family = family

    def connect(self) -> None:
        self.sock = _connect(self.host, self.port, self._family, self.timeout)


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int | None, family: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._family = family

    def connect(self) -> None:
        sock = _connect(self.host, self.port, self._family, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _http_get(url: str, family: int, timeout: float) -> str:
    parts = urllib.parse.urlsplit(url)
    cls = _HTTPSConnection if parts.scheme == "https" else _HTTPConnection
    connection = cls(parts.hostname or "", parts.port, family, timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        connection.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "text/plain, */*"})
        response = connection.getresponse()
        body = response.read(MAX_BODY + 1)
        if response.status != 200:
            raise _SourceError(f"HTTP status {response.status} {response.reason}".rstrip())
        if len(body) > MAX_BODY:
            raise _SourceError(f"answered more than {MAX_BODY} bytes, not an address")
        return body.decode("utf-8", errors="replace")
    finally:
        connection.close()


def _parse_http(source: Source, body: str) -> str:
    if source.format == "plain":
        return body
    if source.format == "json":
        try:
            data = json.loads(body)
        except ValueError:
            raise _SourceError(f"answered {shorten(body)!r}, which is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("ip"), str):
            raise _SourceError('answered JSON without an "ip" string')
        return data["ip"]
    if source.format == "trace":
        return _parse_trace(source, body)
    text = re.sub(r"<[^>]*>", " ", body)
    match = re.search(r"Address:\s*([0-9A-Fa-f:.]+)", text)
    if not match:
        raise _SourceError(f"answered {shorten(text)!r} without 'Address: <ip>'")
    return match.group(1)


def _parse_trace(source: Source, body: str) -> str:
    """Cloudflare's /cdn-cgi/trace: key=value lines; `ip` is the caller's address."""
    fields = dict(line.split("=", 1) for line in body.splitlines() if "=" in line)
    if "ip" not in fields:
        raise _SourceError(f"answered {shorten(body)!r} without an ip= line")
    host = urllib.parse.urlsplit(source.url).hostname
    if fields.get("h") and host and fields["h"] != host:
        raise _SourceError(f"trace is for host {fields['h']!r}, not {host!r}")
    if fields.get("warp") == "on":
        raise _SourceError("the connection goes through Cloudflare WARP, which hides the public address")
    return fields["ip"]


# DNS ----------------------------------------------------------------------------------------


def _server_address(server: str, family: int) -> str:
    try:
        address = ipaddress.ip_address(server.strip("[]"))
    except ValueError:
        af = socket.AF_INET if family == 4 else socket.AF_INET6
        return str(socket.getaddrinfo(server, 53, af, socket.SOCK_DGRAM)[0][4][0])
    if address.version != family:
        raise _SourceError(
            f"server {server} is an IPv{address.version} address; the IPv{family} answer needs IPv{family}"
        )
    return str(address)


def _ask_dns(source: Source, timeout: float) -> str:
    if not HAS_DNSPYTHON:
        raise _SourceError("dnspython is not installed (pip install dnspython)")
    server = _server_address(source.server, source.family)
    query = dns.message.make_query(
        dns.name.from_text(source.qname),
        dns.rdatatype.from_text(source.qtype),
        dns.rdataclass.from_text(source.qclass),
    )
    if source.qclass == "CH":
        query.flags &= ~dns.flags.RD  # Cloudflare's whoami is asked without recursion (as favonia does)
    try:
        response = dns.query.udp(query, server, timeout=timeout, port=source.port)
        if response.flags & dns.flags.TC:
            response = dns.query.tcp(query, server, timeout=timeout, port=source.port)
    except dns.exception.Timeout:
        raise _SourceError(f"timed out after {timeout:g}s") from None
    except dns.exception.DNSException as exc:
        raise _SourceError(f"bad DNS response ({exc})") from None
    rcode = response.rcode()
    if rcode != 0:
        raise _SourceError(f"DNS error {dns.rcode.to_text(rcode)}")
    wanted = dns.rdatatype.from_text(source.qtype)
    values: list[str] = []
    for rrset in response.answer:
        if rrset.rdtype != wanted:
            continue
        for rdata in rrset:
            if wanted == dns.rdatatype.TXT:
                values.extend(s.decode("utf-8", errors="replace") for s in rdata.strings)
            else:
                values.append(rdata.address)
    if not values:
        raise _SourceError(f"no {source.qtype} record in the answer")
    for value in values:  # Google may add an edns0-client-subnet string beside the address
        try:
            return check_address(value, source.family)
        except _SourceError:
            continue
    return values[0]  # check_address in ask() reports why it is unusable


# Local interface ----------------------------------------------------------------------------


def _interface_address(source: Source) -> str:
    """Local address of the route towards the target; connect() on UDP sends nothing."""
    af = socket.AF_INET if source.family == 4 else socket.AF_INET6
    with socket.socket(af, socket.SOCK_DGRAM) as sock:
        sock.connect((source.target, 9))
        local = sock.getsockname()[0]
    address = ipaddress.ip_address(local.split("%")[0])
    if not address.is_global:
        raise _SourceError(f"the local address {address} is not public (the host is behind NAT or a private network)")
    return str(address)
