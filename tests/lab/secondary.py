"""A second BIND on 127.0.0.1 serving a BindLab's zones as a secondary that lags on purpose.

    with BindLab() as primary, SecondaryLab(primary) as secondary:
        primary.nsupdate("update add www.example.test. 300 A 192.0.2.1")
        secondary.query("www.example.test.", "A")   # set(): it has not transferred the change
        secondary.catch_up()                         # rndc retransfer, until its serial is the primary's
        secondary.query("www.example.test.", "A")   # {"192.0.2.1"}

It transfers each zone once at start (over TCP, with the primary's admin key) and then only when
told: the primary sends no NOTIFY and the zones' refresh is an hour, so every change made on the
primary afterwards is one the secondary lags behind on until `catch_up()`.

API: ``host``, ``port``, ``zones``, ``query(name, rtype)``, ``serial(zone)``, ``catch_up(zone=None)``,
``stop()`` (idempotent).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

import dns.message
import dns.query
import dns.rcode

from .bind import HOST, BindLab, LabError, _run, _which, free_port


class SecondaryLab:
    def __init__(self, primary: BindLab, zones: list[str] | None = None) -> None:
        self.primary = primary
        self.host = HOST
        self.zones = list(zones or primary.zones)
        self.directory = tempfile.mkdtemp(prefix="fleetdns-bind2-")
        self.port = free_port()
        self.rndc_port = free_port()
        self._log = os.path.join(self.directory, "named.log")
        self._proc: subprocess.Popen[bytes] | None = None
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> SecondaryLab:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _path(self, *parts: str) -> str:
        return os.path.join(self.directory, *parts)

    def _start(self) -> None:
        _run([_which("rndc-confgen"), "-a", "-A", "hmac-sha256", "-c", self._path("rndc.key")])
        key = self.primary.keys["admin"].name
        zones = "\n".join(
            f'zone "{zone}" {{ type secondary; file "{self._path("db." + zone)}"; '
            f"primaries {{ {self.primary.host} port {self.primary.port} key {key}; }}; }};"
            for zone in self.zones
        )
        conf = f"""options {{
    directory "{self.directory}";
    pid-file "{self._path("named.pid")}";
    session-keyfile "{self._path("session.key")}";
    listen-on port {self.port} {{ {HOST}; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
}};
controls {{ inet {HOST} port {self.rndc_port} allow {{ {HOST}; }} keys {{ "rndc-key"; }}; }};
include "{self._path("rndc.key")}";
include "{self.primary.key_file("admin")}";
{zones}
"""
        with open(self._path("named.conf"), "w", encoding="ascii") as handle:
            handle.write(conf)
        command = [_which("named"), "-g", "-c", self._path("named.conf")]
        if os.geteuid() == 0:
            for root, dirs, files in os.walk(self.directory):
                for entry in [root, *(os.path.join(root, e) for e in dirs + files)]:
                    shutil.chown(entry, "bind", "bind")
            command += ["-u", "bind"]
        with open(self._log, "ab") as log:
            self._proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        for zone in self.zones:
            self._wait_serial(zone, self.primary_serial(zone))

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if os.path.isdir(self.directory):
            shutil.rmtree(self.directory, ignore_errors=True)

    def _soa_serial(self, host: str, port: int, zone: str) -> int | None:
        try:
            response = dns.query.tcp(dns.message.make_query(zone, "SOA"), host, timeout=1, port=port)
        except (OSError, EOFError, dns.exception.DNSException):
            return None
        if response.rcode() != dns.rcode.NOERROR or not response.answer:
            return None
        return int(response.answer[0][0].serial)

    def primary_serial(self, zone: str) -> int:
        serial = self._soa_serial(self.primary.host, self.primary.port, zone)
        if serial is None:
            raise LabError(f"the primary does not answer for {zone}")
        return serial

    def serial(self, zone: str) -> int | None:
        """The zone's serial on this secondary (None: not loaded yet)."""
        return self._soa_serial(self.host, self.port, zone)

    def _wait_serial(self, zone: str, serial: int, deadline: float = 15.0) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self._proc is None or self._proc.poll() is not None:
                break
            if self.serial(zone) == serial:
                return
            time.sleep(0.05)
        with open(self._log, encoding="utf-8", errors="replace") as handle:
            log = handle.read()[-2000:]
        raise LabError(f"the secondary did not reach serial {serial} of {zone}; its log:\n{log}")

    def catch_up(self, zone: str | None = None) -> None:
        """Transfer the zone(s) now, and wait until the serial is the primary's."""
        for name in [zone] if zone else self.zones:
            proc = subprocess.run(
                [_which("rndc"), "-s", self.host, "-p", str(self.rndc_port), "-k", self._path("rndc.key"),
                 "retransfer", name],
                capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                raise LabError(f"rndc retransfer {name} failed: {proc.stdout}{proc.stderr}")
            self._wait_serial(name, self.primary_serial(name))

    def query(self, name: str, rtype: str) -> set[str]:
        response = dns.query.tcp(dns.message.make_query(name, rtype), self.host, timeout=5, port=self.port)
        return {rdata.to_text() for rrset in response.answer for rdata in rrset if rrset.rdtype == rrset.rdtype}
