#!/usr/bin/env python
"""dns_record benchmark: 1,000 A records with ONE fleetdns.ddns.dns_record task against
community.general.nsupdate in a loop, same ansible-core, same BIND, same records.

    .venv/bin/python bench/nsupdate_bench.py [--count 1000]

Steps, each one `ansible-playbook` run timed from start to exit (Ansible's own start-up included
for both tools):

1. apply: the zone is empty, the run creates `--count` A records;
2. re-run: the same playbook again, which must change nothing (recap changed=0).

BIND (tests/lab/bind.py: named on 127.0.0.1 and a free port, TSIG key fleet-admin) serves three
zones with the same SOA and NS: fleetdns writes example.test. before and late.test. after the peer
(the slower of its two runs counts, as the machine may be shared), nsupdate writes peer.test., all
with the same relative names and values; every record is checked in BIND after each apply. Both tools run
under the ansible-core of the `ansible` package from PyPI, which brings community.general, in the
benchmark's own venv (bench/.venv-nsupdate-peer, created here on first use, never in the project's
venv); fleetdns.ddns is this checkout, put on ANSIBLE_COLLECTIONS_PATH. Pipelining is on for both
(the fastest the peer can run: one process per loop item, no file copies). Target: fleetdns at least
50x faster on both steps.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from common import address, ensure_venv  # noqa: E402
from lab.bind import BindLab  # noqa: E402

PEER_VENV = ROOT / "bench" / ".venv-nsupdate-peer"
PEER_PACKAGES = ["ansible==12.3.0", "dnspython==2.9.2"]
FLEETDNS_ZONE = "example.test"
PEER_ZONE = "peer.test"
LATE_ZONE = "late.test"
TARGET_RATIO = 50
_RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)

FLEETDNS_PLAY = """\
- name: fleetdns.ddns.dns_record, one task
  hosts: localhost
  gather_facts: false
  tasks:
    - name: All the A records in one task
      fleetdns.ddns.dns_record:
        provider: "{{ lab }}"
        zone: %(zone)s
        ttl: 300
        records: "{{ records }}"
        owner: bench
"""

PEER_PLAY = """\
- name: community.general.nsupdate, one loop item per record
  hosts: localhost
  gather_facts: false
  tasks:
    - name: One A record per item
      community.general.nsupdate:
        server: "{{ lab.server }}"
        port: "{{ lab.port }}"
        protocol: tcp
        key_name: "{{ lab.tsig_key_name }}"
        key_algorithm: "{{ lab.tsig_algorithm }}"
        key_secret: "{{ lab.tsig_secret }}"
        zone: %(zone)s
        record: "{{ item.name }}"
        type: A
        value: "{{ item.value }}"
        ttl: 300
      loop: "{{ records }}"
      loop_control:
        label: "{{ item.name }}"
"""


def records(count: int) -> list[dict[str, str]]:
    return [{"name": f"h{i:04d}", "type": "A", "value": address(i)} for i in range(count)]


def setup(work: Path, bind: BindLab, bin_dir: Path, count: int) -> dict[str, str]:
    """Inventory, ansible.cfg, variables (secret in a 0600 file) and the environment for both tools."""
    collections = work / "collections" / "ansible_collections" / "fleetdns"
    collections.mkdir(parents=True)
    (collections / "ddns").symlink_to(ROOT)
    (work / "inventory.ini").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={bin_dir / 'python'}\n"
    )
    (work / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\n[connection]\npipelining = true\n")
    variables = work / "vars.json"
    variables.write_text(json.dumps({"lab": bind.provider_options(key="admin"), "records": records(count)}))
    variables.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(work / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(work / "collections"),
        ANSIBLE_LOCAL_TEMP=str(work / "tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_DEPRECATION_WARNINGS="0",
        PATH=f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}",
    )
    return env


def run(work: Path, bin_dir: Path, env: dict[str, str], playbook: str, label: str) -> tuple[float, int]:
    """Seconds the ansible-playbook run took, and the recap's changed count."""
    log = work / f"{label}.log"
    started = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(
            [str(bin_dir / "ansible-playbook"), "-i", "inventory.ini", playbook, "-e", "@vars.json"],
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    elapsed = time.monotonic() - started
    text = log.read_text()
    match = _RECAP.search(text)
    if done.returncode != 0 or not match or match.group(4) != "0":
        sys.exit(
            f"{label}: ansible-playbook failed (exit {done.returncode}); see the end of its output:\n{text[-3000:]}"
        )
    return elapsed, int(match.group(2))


def check_zone(bind: BindLab, zone: str, count: int) -> None:
    """Every record is in BIND with its value."""
    text = bind.axfr_text(zone + ".")
    found = set(re.findall(r"^(h\d{4})\." + re.escape(zone) + r"\.\s+300\s+IN\s+A\s+(\S+)$", text, re.MULTILINE))
    wanted = {(r["name"], r["value"]) for r in records(count)}
    if found != wanted:
        sys.exit(f"zone {zone}: {len(wanted - found)} records missing, {len(found - wanted)} unexpected")


def measure(work: Path, bind: BindLab, bin_dir: Path, env: dict[str, str], tool: str, zone: str, count: int) -> dict:
    """Apply then re-run one tool's playbook on `zone`; seconds per step and the load before each."""
    playbook = f"{tool}-{zone}.yml"
    (work / playbook).write_text((FLEETDNS_PLAY if tool == "fleetdns" else PEER_PLAY) % {"zone": zone})
    print(f"{tool}: applying {count} A records to {zone} ...", flush=True)
    load = os.getloadavg()[0]
    apply_seconds, changed = run(work, bin_dir, env, playbook, f"{tool}-{zone}-apply")
    if changed == 0:
        sys.exit(f"{tool}: the apply changed nothing")
    check_zone(bind, zone, count)
    print(f"{tool}: re-running ...", flush=True)
    rerun_load = os.getloadavg()[0]
    rerun_seconds, changed = run(work, bin_dir, env, playbook, f"{tool}-{zone}-rerun")
    if changed != 0:
        sys.exit(f"{tool}: the re-run reported changed={changed}, expected 0")
    return {"apply": apply_seconds, "re-run": rerun_seconds, "loads": (load, rerun_load)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="A records to apply (default 1000)")
    args = parser.parse_args()
    bin_dir = ensure_venv(PEER_VENV, PEER_PACKAGES)  # ansible-core + community.general
    with tempfile.TemporaryDirectory(prefix="fleetdns-nsupdate-bench-") as tmp, BindLab() as bind:
        for zone in (PEER_ZONE, LATE_ZONE):
            bind.add_zone(zone + ".")
        work = Path(tmp)
        env = setup(work, bind, bin_dir, args.count)
        # fleetdns runs before and after the peer's long runs, on two zones, and the slower of the
        # two counts: the machine may be shared, so its load may change while the peer runs.
        early = measure(work, bind, bin_dir, env, "fleetdns", FLEETDNS_ZONE, args.count)
        peer = measure(work, bind, bin_dir, env, "nsupdate", PEER_ZONE, args.count)
        late = measure(work, bind, bin_dir, env, "fleetdns", LATE_ZONE, args.count)
    versions = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    picked = [line for line in versions.splitlines() if line.split("==")[0] in ("ansible", "ansible-core")]
    loads = ", ".join(f"{x:.1f}" for run_ in (early, peer, late) for x in run_["loads"])
    print()
    print(f"{args.count} A records, BIND {bind_version()}, {', '.join(picked)}, pipelining on")
    print(f"1-minute load average before each run (fleetdns x2, nsupdate x2, fleetdns x2): {loads}")
    print(f"{'step':<10} {'fleetdns.ddns.dns_record':>25} {'community.general.nsupdate':>27} {'ratio':>8}")
    met = True
    for step in ("apply", "re-run"):
        ours = max(early[step], late[step])
        ratio = peer[step] / ours
        met = met and ratio >= TARGET_RATIO
        detail = f"(runs: {early[step]:.2f} s, {late[step]:.2f} s)"
        print(f"{step:<10} {ours:>23.2f} s {peer[step]:>25.2f} s {ratio:>7.0f}x  {detail}")
    print(f"target: fleetdns at least {TARGET_RATIO}x faster on both steps: {'met' if met else 'NOT met'}")
    return 0 if met else 1


def bind_version() -> str:
    done = subprocess.run(["named", "-v"], capture_output=True, text=True, check=False)
    return done.stdout.split()[1] if done.returncode == 0 and done.stdout.split() else "?"


if __name__ == "__main__":
    sys.exit(main())
