"""The one-file agent vs Debian's ddclient 3.10, side by side in one run, same name, same BIND.

    .venv/bin/python bench/agent_bench.py [--samples 7] [--ddclient-samples 3]   # as root

Runs as root inside a network namespace of its own (it re-runs itself under `unshare --net`): a
real BIND (tests/lab/bind.py) on the namespace's 127.0.0.1, and a veth interface `wan0` holding
the device's "public" address (a global one: nothing leaves the namespace) with the default route,
so both clients read the address from the interface. The agent is build/fleetdns-agent.pyz run as
a device runs it: Debian 12's python3 with python3-dnspython and python3-requests only, in the
debootstrap root of scripts/build-device-root (chroot keeps the namespace). ddclient is the host's
/usr/bin/ddclient with `protocol=nsupdate` and the same device key, given its best case:
`min-interval=0` and `min-error-interval=0` (ddclient 3.10's nsupdate protocol does not record an
update's success, so without the latter it takes the next change for a retry after a failure and
waits its 5-minute error interval).

(a) idle memory: both services started together, RSS and PSS of every process of each after 60 s;
(b) reaction time: the interface's address changed by the bench, until BIND answers the new one;
    the agent as a service (netlink) vs ddclient at its shortest daemon interval (60 s), each
    change at a random moment; median;
(c) an unchanged pass: the agent `--once` vs ddclient `-daemon=0` with its cache in place: CPU time
    (user + system of the process and its children, median of 5) and the messages BIND received.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

NAME = "host1.example.test"
INSIDE = "/tmp/fleetdns-agent-bench"  # the agent's folder inside the device root
SETTLE = 60.0
DDCLIENT_INTERVAL = 60  # ddclient refuses a shorter daemon interval


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True)


def set_address(old: str | None, new: str) -> None:
    """One `ip -batch`: the old address removed (which takes the default route with it), the new one
    added, the default route back, as a DHCP or PPP renumbering does it."""
    commands = [f"addr del {old}/32 dev wan0"] if old else []
    commands += [f"addr add {new}/32 dev wan0", "route add default dev wan0"]
    subprocess.run(["ip", "-batch", "-"], input="\n".join(commands) + "\n", text=True, check=True)


def memory(pid: int) -> tuple[float, float, int]:
    """RSS and PSS in MB of a process and all its descendants, and how many processes that is."""
    pids = [pid]
    for p in pids:
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            children = []
        pids.extend(int(c) for c in children)
    rss = pss = 0
    for p in pids:
        for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
            key, _sep, value = line.partition(":")
            if key == "Rss":
                rss += int(value.split()[0])
            elif key == "Pss":
                pss += int(value.split()[0])
    return rss / 1024, pss / 1024, len(pids)


def cpu_seconds(argv: list[str], expect: int, what: str) -> float:
    """User + system CPU of one run of `argv` and every process it waited for (os.wait4)."""
    import tempfile

    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(argv, stdout=output, stderr=output, stdin=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code != expect:
            output.seek(0)
            raise SystemExit(f"{what} exited {code}, expected {expect}:\n{output.read().decode()[-3000:]}")
    return usage.ru_utime + usage.ru_stime


class Bench:
    def __init__(self, lab: object, device_root: Path, work: Path) -> None:
        self.lab = lab
        self.root = device_root
        self.work = work
        self.address: str | None = None
        key = lab.keys["host1key"]  # type: ignore[attr-defined]
        self.agent_dir = device_root / INSIDE.lstrip("/")
        shutil.rmtree(self.agent_dir, ignore_errors=True)
        self.agent_dir.mkdir(parents=True)
        subprocess.run(
            [str(ROOT / "scripts" / "build-agent-zipapp"), str(self.agent_dir / "fleetdns-agent.pyz")],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        config = {
            "names": [{"name": NAME, "providers": ["lab"], "families": ["ipv4"]}],
            "providers": {
                "lab": {
                    "type": "rfc2136",
                    "zone": "example.test",
                    "server": lab.host,
                    "port": lab.port,  # type: ignore[attr-defined]
                    "tsig_key_name": key.name,
                    "tsig_algorithm": key.algorithm,
                    "tsig_secret": key.secret,
                    "ownership": "key",
                }
            },
            "detect": {"ipv4": {"sources": ["interface"]}, "ipv6": False},
            "interval": 300,
            "debounce": 1,
            "min_update_interval": 0,
            "verify_interval": 0.1,
        }
        path = self.agent_dir / "agent.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        path.chmod(0o600)
        self.agent = [
            "chroot",
            str(device_root),
            "python3",
            f"{INSIDE}/fleetdns-agent.pyz",
            "--config",
            f"{INSIDE}/agent.json",
        ]
        self.ddclient_conf = work / "ddclient.conf"
        self.ddclient_cache = work / "ddclient.cache"
        self.ddclient_conf.write_text(
            "\n".join(
                [
                    "ssl=no",
                    "use=if",
                    "if=wan0",
                    "min-interval=0",
                    "min-error-interval=0",  # see the docstring
                    "protocol=nsupdate",
                    f"server={lab.host}:{lab.port}",  # type: ignore[attr-defined]
                    f"password={lab.key_file('host1key')}",  # type: ignore[attr-defined]
                    "zone=example.test",
                    "ttl=60",
                    NAME,
                    "",
                ]
            )
        )
        self.ddclient_conf.chmod(0o600)

    def ddclient(self, *extra: str) -> list[str]:
        conf, cache = str(self.ddclient_conf), str(self.ddclient_cache)
        return ["/usr/bin/ddclient", "-foreground", "-file", conf, "-cache", cache, *extra]

    def answer(self) -> set[str]:
        return self.lab.query(NAME, "A")  # type: ignore[attr-defined]

    def wait_for(self, address: str, limit: float) -> float | None:
        started = time.monotonic()
        while time.monotonic() - started < limit:
            if self.answer() == {address}:
                return time.monotonic() - started
            time.sleep(0.02)
        return None

    def change(self, new: str) -> None:
        set_address(self.address, new)
        self.address = new

    # (a)
    def idle(self) -> dict[str, tuple[float, float, int]]:
        self.ddclient_cache.unlink(missing_ok=True)
        agent = subprocess.Popen(self.agent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ddclient = subprocess.Popen(
            self.ddclient(f"-daemon={DDCLIENT_INTERVAL}"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            time.sleep(SETTLE)
            return {"agent": memory(agent.pid), "ddclient": memory(ddclient.pid)}
        finally:
            for process in (agent, ddclient):
                process.send_signal(signal.SIGTERM)
                process.wait(30)

    # (b)
    def reaction(self, argv: list[str], samples: int, spread: float, limit: float, counter: list[int]) -> list[float]:
        log_path = self.work / f"reaction-{counter[0]}.log"
        log = log_path.open("w")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        times = []
        try:
            if self.wait_for(self.address or "", 30) is None:
                raise SystemExit(f"{argv[0]} did not publish the first address")
            time.sleep(2)
            for _sample in range(samples):
                time.sleep(random.uniform(0, spread) + 1.5)
                counter[0] += 1
                new = f"8.8.{10 + counter[0] // 250}.{counter[0] % 250 + 1}"  # global, never leaves the namespace
                self.change(new)
                took = self.wait_for(new, limit)
                if took is None:
                    tail = log_path.read_text()[-3000:]
                    raise SystemExit(f"{argv[0]}: BIND did not answer {new} within {limit:g} s; its output:\n{tail}")
                times.append(took)
                print(f"    {Path(argv[0]).name if argv[0] != 'chroot' else 'agent'}: {took:.2f} s", flush=True)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            log.close()
        return times

    # (c)
    def unchanged(self, runs: int) -> dict[str, tuple[float, int, int]]:
        self.lab.rndc("querylog", "on")  # type: ignore[attr-defined]
        results = {}
        self.ddclient_cache.unlink(missing_ok=True)
        subprocess.run(self.ddclient("-daemon=0", "-force"), check=True, capture_output=True)  # fills its cache
        for what, argv, expect in (
            ("agent", [*self.agent, "--once"], 0),
            ("ddclient", self.ddclient("-daemon=0"), 0),
        ):
            if self.answer() != {self.address}:
                raise SystemExit(f"before {what}'s unchanged pass BIND does not answer {self.address}")
            before = self.lab.log_text()  # type: ignore[attr-defined]
            cpu = statistics.median(cpu_seconds(argv, expect, what) for _run in range(runs))
            new = self.lab.log_text()[len(before) :]  # type: ignore[attr-defined]
            queries = sum(1 for line in new.splitlines() if " query: " in line) // runs
            updates = sum(1 for line in new.splitlines() if "updating zone" in line) // runs
            results[what] = (cpu, queries, updates)
        return results


def inside(args: argparse.Namespace) -> None:
    from lab.bind import BindLab

    ip("link", "set", "lo", "up")
    ip("link", "add", "wan0", "type", "veth", "peer", "name", "wan1")  # the peer end stays unused
    ip("link", "set", "wan1", "up")
    ip("link", "set", "wan0", "up")
    built = subprocess.run([str(ROOT / "scripts" / "build-device-root")], capture_output=True, text=True, check=True)
    device_root = Path(built.stdout.strip().splitlines()[-1])
    work = Path(os.environ["FLEETDNS_BENCH_WORK"])
    with BindLab() as lab:
        bench = Bench(lab, device_root, work)
        bench.change("8.8.4.4")
        version = subprocess.run(
            [*bench.agent[:4], "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        dd_version = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", "ddclient"], capture_output=True, text=True, check=False
        )
        print(f"agent: {version} (Debian 12 python3 + python3-dnspython 2.3, chroot); ddclient {dd_version.stdout}")

        print(f"(a) idle memory after {SETTLE:g} s, both services running ...", flush=True)
        idle = bench.idle()
        print("(b) reaction time ...", flush=True)
        counter = [0]
        agent_times = bench.reaction(bench.agent, args.samples, 3.0, 30.0, counter)
        bench.ddclient_cache.unlink(missing_ok=True)
        dd_argv = bench.ddclient(f"-daemon={DDCLIENT_INTERVAL}")
        dd_times = bench.reaction(dd_argv, args.ddclient_samples, DDCLIENT_INTERVAL, 2.5 * DDCLIENT_INTERVAL, counter)
        print("(c) an unchanged pass ...", flush=True)
        cost = bench.unchanged(5)
        shutil.rmtree(bench.agent_dir, ignore_errors=True)

    a_rss, a_pss, a_n = idle["agent"]
    d_rss, d_pss, d_n = idle["ddclient"]
    a_med, d_med = statistics.median(agent_times), statistics.median(dd_times)
    a_cpu, a_q, a_u = cost["agent"]
    d_cpu, d_q, d_u = cost["ddclient"]
    print()
    print(f"{'':34}{'agent':>14}{'ddclient 3.10':>16}{'ratio':>9}")
    print("-" * 73)
    print(f"{'(a) idle RSS, MB':34}{a_rss:>14.1f}{d_rss:>16.1f}{d_rss / a_rss:>8.2f}x")
    print(f"{'    idle PSS, MB':34}{a_pss:>14.1f}{d_pss:>16.1f}{d_pss / a_pss:>8.2f}x")
    print(f"{'    processes when idle':34}{a_n:>14}{d_n:>16}")
    print(f"{'(b) reaction, median s':34}{a_med:>14.2f}{d_med:>16.2f}{d_med / a_med:>8.1f}x")
    a_all = ", ".join(f"{t:.2f}" for t in agent_times)
    d_all = ", ".join(f"{t:.1f}" for t in dd_times)
    print(f"{'    samples':34}{len(agent_times):>14}{len(dd_times):>16}")
    print(f"{'(c) unchanged pass CPU, s':34}{a_cpu:>14.3f}{d_cpu:>16.3f}{d_cpu / a_cpu:>8.2f}x")
    print(f"{'    DNS queries at BIND':34}{a_q:>14}{d_q:>16}")
    print(f"{'    UPDATE messages at BIND':34}{a_u:>14}{d_u:>16}")
    print()
    print(f"  agent reaction samples: {a_all}")
    print(f"  ddclient reaction samples: {d_all}")
    met = a_rss < d_rss and a_med < 2.0
    print(f"targets: idle RSS below ddclient's ({a_rss:.1f} < {d_rss:.1f} MB), reaction median < 2 s ({a_med:.2f} s): "
          f"{'met' if met else 'NOT met'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=7, help="agent reaction samples")
    parser.add_argument("--ddclient-samples", type=int, default=3, help="ddclient reaction samples (up to 60 s each)")
    args = parser.parse_args()
    if os.environ.get("FLEETDNS_BENCH_INSIDE") == "1":
        inside(args)
        return
    if os.geteuid() != 0:
        sys.exit("agent_bench: needs root (a network namespace, chroot into the device root)")
    for tool, package in (("unshare", "util-linux"), ("ip", "iproute2"), ("debootstrap", "debootstrap")):
        if shutil.which(tool) is None:
            sys.exit(f"agent_bench: {tool} not found (install {package})")
    if not os.path.exists("/usr/bin/ddclient"):
        sys.exit("agent_bench: /usr/bin/ddclient not found (install ddclient: make system-packages)")
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"fleetdns-agent-bench-{os.getpid()}"
    work.mkdir()
    env = {**os.environ, "FLEETDNS_BENCH_INSIDE": "1", "FLEETDNS_BENCH_WORK": str(work)}
    try:
        code = subprocess.run(
            ["unshare", "--net", sys.executable, __file__, *sys.argv[1:]], env=env, check=False
        ).returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
