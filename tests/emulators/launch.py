"""Run an emulator in its own process (so its CPU time is not the client's) and drive it over loopback.

    from emulators.launch import CloudflareProcess

    with CloudflareProcess(tls_dir) as cf:           # python -m emulators.cloudflare in a subprocess
        zone_id = cf.add_zone("example.test", records=[{"name": "www", "type": "A", "content": "192.0.2.1"}])
        ... clients use cf.https_url / cf.http_url, cf.ca_file, cf.token ...
        cf.stats()["dns_records.batch"]

Used by the benchmarks and by tests that need the emulator outside the test process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, ClassVar, Self

_PACKAGE = Path(__file__).resolve().parent


class EmulatorProcess:
    """An emulator as a child process (`python -m emulators.<MODULE>`), which prints its addresses and
    credentials as one JSON line when it listens; stopped (and waited for) on exit."""

    MODULE: ClassVar[str]  # the emulator's module in this package
    SERVICE: ClassVar[str]  # its name in messages
    CREDENTIALS: ClassVar[tuple[str, ...]]  # keys of the start line kept as attributes of the same name
    ADMIN_TIMEOUT: ClassVar[float] = 120

    def __init__(self, tls_dir: str | Path, python: str = sys.executable, extra: tuple[str, ...] = ()) -> None:
        self._command = [python, "-m", f"{_PACKAGE.name}.{self.MODULE}", "--tls-dir", str(tls_dir), *extra]
        self._process: subprocess.Popen[str] | None = None
        self.http_url = self.https_url = self.admin_url = self.ca_file = ""

    def start(self) -> Self:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_PACKAGE.parent), os.environ.get("PYTHONPATH", "")])}
        self._process = subprocess.Popen(self._command, stdout=subprocess.PIPE, text=True, env=env)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"the {self.SERVICE} emulator did not start: {' '.join(self._command)}")
        info = json.loads(line)
        self.http_url, self.https_url = info["http_url"], info["https_url"]
        self.admin_url, self.ca_file = info["admin_url"], info["ca_file"]
        for key in self.CREDENTIALS:
            setattr(self, key, info[key])
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout:
                self._process.stdout.close()
            self._process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.admin_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=self.ADMIN_TIMEOUT) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, int]:
        return self._admin("GET", "/stats")["counts"]

    def reset(self) -> None:
        self._admin("POST", "/reset", {})


class CloudflareProcess(EmulatorProcess):
    """The Cloudflare emulator (python -m emulators.cloudflare)."""

    MODULE, SERVICE, CREDENTIALS = "cloudflare", "Cloudflare", ("token",)
    ADMIN_TIMEOUT = 60
    token = ""

    def __init__(self, tls_dir: str | Path, rate_limit: bool = True, python: str = sys.executable) -> None:
        super().__init__(tls_dir, python, () if rate_limit else ("--no-rate-limit",))

    def add_zone(self, name: str, records: list[dict] | None = None, plan: str = "free") -> str:
        """Create a zone with records (validated like the API, not counted); returns its id."""
        return self._admin("POST", "/zones", {"name": name, "plan": plan, "records": records or []})["id"]

    def records(self, zone_id: str) -> list[dict]:
        return self._admin("GET", f"/zones/{zone_id}/records")

    def inject(self, **fault: Any) -> None:
        self._admin("POST", "/faults", [fault])

    def set_rate_limit(self, enabled: bool = True, **limits: float) -> None:
        self._admin("POST", "/rate", {"enabled": enabled, **limits})


class DnspodProcess(EmulatorProcess):
    """The DNSPod emulator (python -m emulators.dnspod)."""

    MODULE, SERVICE, CREDENTIALS = "dnspod", "DNSPod", ("secret_id", "secret_key")
    secret_id = secret_key = ""

    def __init__(self, tls_dir: str | Path, rate_limit: bool = True, python: str = sys.executable) -> None:
        super().__init__(tls_dir, python, () if rate_limit else ("--no-rate-limit",))

    def add_domain(self, name: str, records: list[dict] | None = None) -> None:
        """A domain with records (CreateRecord parameters, checked like the API, not counted)."""
        self._admin("POST", "/domains", {"name": name, "records": records or []})

    def records(self, name: str) -> list[dict]:
        return self._admin("GET", f"/domains/{name}/records")


class AliDnsProcess(EmulatorProcess):
    """The Alibaba Cloud DNS emulator (python -m emulators.alidns)."""

    MODULE, SERVICE, CREDENTIALS = "alidns", "Alibaba Cloud DNS", ("key_id", "key_secret")
    key_id = key_secret = ""

    def add_domain(self, name: str, records: list[dict] | None = None) -> None:
        """A domain with records given as add_record's keyword arguments (not counted)."""
        self._admin("POST", "/domains", {"name": name, "records": records or []})

    def records(self, domain: str) -> list[dict]:
        return self._admin("GET", f"/domains/{domain}/records")
