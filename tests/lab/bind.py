"""A real BIND 9 primary on 127.0.0.1 for tests and benchmarks: the lab every fleetdns test uses.

Start one with the pytest fixture `bind` (tests/conftest.py), or directly::

    from lab.bind import BindLab          # tests/ is on sys.path under pytest (tests/conftest.py)

    with BindLab() as lab:                # named -g on 127.0.0.1 and a free port; ready in ~0.2 s
        lab.nsupdate("update add www.example.test. 300 A 192.0.2.1")
        assert lab.query("www.example.test.", "A") == {"192.0.2.1"}

What it sets up (in a fresh temp dir, removed on stop):

- zone ``example.test.`` (``lab.zone``): SOA, ``NS ns1.example.test.``, ``ns1 A 127.0.0.1``; dynamic,
  journal in the temp dir;
- TSIG keys made by ``tsig-keygen`` (``lab.keys[role]`` -> TsigKey(name, algorithm, secret)):

  ========== ============== ==========================================================
  role       key name       may
  ========== ============== ==========================================================
  admin      fleet-admin    update anything in the zone (``zonesub ANY``), AXFR
  host1key   host1key       update only ``host1.<zone>`` A and AAAA (a device key)
  noxfr      noxfr          update anything in the zone, but not transfer it
  ========== ============== ==========================================================

- an rndc control channel (key from ``rndc-confgen``) on another free port: ``lab.rndc("sync")``.

API (stable; other tests rely on it):

- ``host``, ``port``, ``zone``, ``zones``, ``keys``, ``directory``, ``running``, ``rndc_port``
- ``provider_options(key="admin", **extra) -> dict``: an inventory ``fleetdns_providers`` entry for
  the rfc2136 provider (includes ``type: rfc2136``; the provider ignores ``type``)
- ``query(name, rtype) -> set[str]``: canonical values (rdata.canonical_text) over TCP, unsigned;
  a referral's NS (delegation below the apex) counts as the answer for an NS query
- ``nsupdate(script, key="admin", check=True, zone=None)``: runs the real /usr/bin/nsupdate -k
  KEYFILE; the lab prepends ``server``/``zone`` lines and appends ``send`` when the script has none
- ``keyring(key="admin")``: a dnspython keyring for the key (for dns.query with TSIG)
- ``axfr_text(zone=None) -> str``: the zone via AXFR (admin key), one record per line
- ``add_zone(zone, options="") -> None``: another zone with the same keys and policy (``rndc addzone``),
  plus zone ``options`` such as ``"max-records 500;"``
- ``key_file(key="admin") -> str``: path of the key's ``tsig-keygen`` file (for ddclient, nsupdate)
- ``rndc(*args) -> str``, ``log_text() -> str`` (named's log), ``stop()`` (idempotent)
- ``pause()`` / ``resume()``: SIGSTOP / SIGCONT named (it answers nothing while paused)

A missing ``named``/``tsig-keygen``/``nsupdate`` raises LabError saying to run ``make test`` (or
``make system-packages``), which installs bind9 and bind9-dnsutils.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Any

import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.tsigkeyring
import dns.zone
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import canonical_text
from ansible_collections.fleetdns.ddns.plugins.module_utils.tsig import TsigKey, TsigKeyError, read_key_file

HOST = "127.0.0.1"
DEFAULT_ZONE = "example.test."
KEY_NAMES = {"admin": "fleet-admin", "host1key": "host1key", "noxfr": "noxfr"}
INSTALL_HINT = "install BIND with `make test` (or `make system-packages`: apt packages bind9, bind9-dnsutils)"
_BINARIES = ("named", "tsig-keygen", "rndc-confgen", "rndc", "nsupdate")


class LabError(RuntimeError):
    """The lab could not start or a lab command failed."""


def free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (named listens on both)."""
    for _attempt in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((HOST, 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((HOST, port))
                except OSError:
                    continue
            return port
    raise LabError("no free port on 127.0.0.1")


def missing_binaries() -> list[str]:
    return [b for b in _BINARIES if shutil.which(b) is None and not os.path.exists(f"/usr/sbin/{b}")]


def _which(binary: str) -> str:
    return shutil.which(binary) or f"/usr/sbin/{binary}"


class BindLab:
    """One named process serving `zone` (and any zones added later) from a temp dir."""

    def __init__(self, zone: str = DEFAULT_ZONE, algorithm: str = "hmac-sha256") -> None:
        missing = missing_binaries()
        if missing:
            raise LabError(f"{', '.join(missing)} not found: {INSTALL_HINT}")
        self.host = HOST
        self.zone = zone if zone.endswith(".") else zone + "."
        self.algorithm = algorithm
        self.directory = tempfile.mkdtemp(prefix="fleetdns-bind-")
        self.keys: dict[str, TsigKey] = {}
        self.zones: list[str] = [self.zone]
        self.port = 0
        self.rndc_port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = os.path.join(self.directory, "named.log")
        try:
            self._make_keys()
            self._start()
        except BaseException:
            self.stop()
            raise

    # ----------------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> BindLab:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop named and remove the temp dir; safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self.directory and os.path.isdir(self.directory):
            shutil.rmtree(self.directory, ignore_errors=True)

    def _make_keys(self) -> None:
        for role, name in KEY_NAMES.items():
            path = self._key_path(name)
            out = _run([_which("tsig-keygen"), "-a", self.algorithm, name]).stdout
            with open(path, "w", encoding="ascii") as handle:
                handle.write(out)
            try:
                key = read_key_file(path)  # the engine's reader of key files
            except TsigKeyError as exc:
                raise LabError(f"tsig-keygen wrote no usable key for {name}: {exc}") from None
            if key is None:
                raise LabError(f"tsig-keygen wrote no key file for {name}")
            self.keys[role] = key
        _run([_which("rndc-confgen"), "-a", "-A", "hmac-sha256", "-c", self._path("rndc.key")])

    def _start(self) -> None:
        os.makedirs(self._path("zones"), exist_ok=True)
        self._write_zone_file(self.zone)
        for attempt in range(3):
            self.port, self.rndc_port = free_port(), free_port()
            while self.rndc_port == self.port:
                self.rndc_port = free_port()
            self._write_conf()
            command = [_which("named"), "-g", "-c", self._path("named.conf")]
            if os.geteuid() == 0:
                shutil.chown(self.directory, "bind", "bind")
                for root, dirs, files in os.walk(self.directory):
                    for entry in dirs + files:
                        shutil.chown(os.path.join(root, entry), "bind", "bind")
                command += ["-u", "bind"]
            with open(self._log, "ab") as log:
                self._proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            if self._wait_ready(self.zone):
                return
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait(5)
            self._proc = None
            if "address in use" not in self.log_text() or attempt == 2:
                break
        raise LabError(f"named did not start; its log:\n{self.log_text()[-3000:]}")

    def _wait_ready(self, zone: str, deadline: float = 15.0) -> bool:
        """Poll the zone's SOA over TCP until named answers authoritatively."""
        end = time.monotonic() + deadline
        query = dns.message.make_query(zone, "SOA")
        while time.monotonic() < end:
            if self._proc is None or self._proc.poll() is not None:
                return False
            try:
                response = dns.query.tcp(query, self.host, timeout=0.5, port=self.port)
                if response.rcode() == dns.rcode.NOERROR and response.answer:
                    return True
            except (OSError, EOFError, dns.exception.DNSException):
                pass
            time.sleep(0.02)
        return False

    # ----------------------------------------------------------------- configuration

    def _path(self, *parts: str) -> str:
        return os.path.join(self.directory, *parts)

    def _key_path(self, name: str) -> str:
        return self._path(f"{name}.key")

    def _zone_clause_body(self, zone: str, options: str = "") -> str:
        admin, host1, noxfr = (KEY_NAMES[r] for r in ("admin", "host1key", "noxfr"))
        return (
            f'type primary; file "{self._path("zones", "db." + zone)}"; '
            "update-policy { "
            f"grant {host1} name host1.{zone} A AAAA; "
            f"grant {admin} zonesub ANY; "
            f"grant {noxfr} zonesub ANY; "
            "}; "
            f"allow-transfer {{ key {admin}; }}; {options}"
        )

    def _write_conf(self) -> None:
        includes = "\n".join(f'include "{self._key_path(name)}";' for name in KEY_NAMES.values())
        zones = "\n".join(f'zone "{z}" {{ {self._zone_clause_body(z)} }};' for z in self.zones)
        conf = f"""options {{
    directory "{self.directory}";
    pid-file "{self._path("named.pid")}";
    session-keyfile "{self._path("session.key")}";
    listen-on port {self.port} {{ {HOST}; }};
    listen-on-v6 {{ none; }};
    recursion no;
    allow-query {{ 127.0.0.1; }};
    dnssec-validation no;
    notify no;
    allow-new-zones yes;
}};
controls {{ inet {HOST} port {self.rndc_port} allow {{ {HOST}; }} keys {{ "rndc-key"; }}; }};
include "{self._path("rndc.key")}";
{includes}
{zones}
"""
        with open(self._path("named.conf"), "w", encoding="ascii") as handle:
            handle.write(conf)

    def _write_zone_file(self, zone: str) -> None:
        text = f"""$TTL 300
@ IN SOA ns1.{zone} hostmaster.{zone} 1 3600 600 86400 300
@ IN NS ns1.{zone}
ns1 IN A 127.0.0.1
"""
        path = self._path("zones", "db." + zone)
        with open(path, "w", encoding="ascii") as handle:
            handle.write(text)
        if os.geteuid() == 0:
            shutil.chown(path, "bind", "bind")

    def add_zone(self, zone: str, options: str = "") -> None:
        """Serve another zone with the same keys and update-policy (via `rndc addzone`), plus zone
        `options` (e.g. "max-records 500;", which makes BIND refuse an update that would exceed it)."""
        zone = zone if zone.endswith(".") else zone + "."
        self._write_zone_file(zone)
        self.rndc("addzone", zone, "{ " + self._zone_clause_body(zone, options) + " };")
        self.zones.append(zone)
        if not self._wait_ready(zone, 10.0):
            raise LabError(f"zone {zone} did not load; named's log:\n{self.log_text()[-2000:]}")

    # ----------------------------------------------------------------- using it

    def provider_options(self, key: str = "admin", **extra: Any) -> dict[str, Any]:
        """A `fleetdns_providers` entry (rfc2136) pointing at this server with the given key."""
        tsig = self.keys[key]
        options: dict[str, Any] = {
            "type": "rfc2136",
            "server": self.host,
            "port": self.port,
            "tsig_key_name": tsig.name,
            "tsig_algorithm": tsig.algorithm,
            "tsig_secret": tsig.secret,
            "timeout": 5,
        }
        options.update(extra)
        return options

    def key_file(self, key: str = "admin") -> str:
        return self._key_path(self.keys[key].name)

    def keyring(self, key: str = "admin") -> dict:
        tsig = self.keys[key]
        return dns.tsigkeyring.from_text({tsig.name: (tsig.algorithm, tsig.secret)})

    def query(self, name: str, rtype: str) -> set[str]:
        """Canonical values of `name` `rtype` as the server answers them over TCP."""
        name = name if name.endswith(".") else name + "."
        response = dns.query.tcp(dns.message.make_query(name, rtype), self.host, timeout=5, port=self.port)
        rcode = response.rcode()
        if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            raise LabError(f"query {name} {rtype}: {dns.rcode.to_text(rcode)}")
        wanted_type = dns.rdatatype.from_text(rtype)
        sections = [response.answer]
        if wanted_type == dns.rdatatype.NS:
            sections.append(response.authority)  # a delegation answers with a referral
        for section in sections:
            for rrset in section:
                if rrset.name.to_text().lower() == name.lower() and rrset.rdtype == wanted_type:
                    return {canonical_text(rdata) for rdata in rrset}
        return set()

    def nsupdate(
        self, script: str, key: str = "admin", check: bool = True, zone: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the real nsupdate with the key's file; `script` holds update/prereq lines."""
        lines = [f"server {self.host} {self.port}", f"zone {zone or self.zone}", script.strip()]
        if not re.search(r"^\s*send\s*$", script, re.MULTILINE):
            lines.append("send")
        proc = subprocess.run(
            [shutil.which("nsupdate") or "/usr/bin/nsupdate", "-v", "-k", self.key_file(key)],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if check and proc.returncode != 0:
            raise LabError(f"nsupdate failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
        return proc

    def axfr_text(self, zone: str | None = None) -> str:
        """The zone as transferred with the admin key, one record per line, names absolute."""
        zone = zone or self.zone
        xfr = dns.query.xfr(
            self.host, zone, port=self.port, keyring=self.keyring("admin"), timeout=10, lifetime=60, relativize=False
        )
        return dns.zone.from_xfr(xfr, relativize=False).to_text(relativize=False)

    def rndc(self, *args: str) -> str:
        proc = subprocess.run(
            [_which("rndc"), "-s", self.host, "-p", str(self.rndc_port), "-k", self._path("rndc.key"), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if proc.returncode != 0:
            raise LabError(f"rndc {' '.join(args[:1])} failed: {proc.stdout}{proc.stderr}")
        return proc.stdout

    def pause(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)

    def log_text(self) -> str:
        try:
            with open(self._log, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if proc.returncode != 0:
        raise LabError(f"{os.path.basename(command[0])} failed: {proc.stderr.strip()}")
    return proc
