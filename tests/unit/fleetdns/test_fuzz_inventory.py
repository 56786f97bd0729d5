"""Fuzzing the inventory loader and validator through `fleetdns validate` (in-process, for speed).

Two generators: inventories assembled from hostile fragments (anchors, aliases of aliases, merge keys,
tags, templates that fail, secrets, deep nesting) and bytes flipped or inserted in hosts.example.yml.
Whatever the input, validate exits 0, or exits 1 with every error located at file:line:column; it
never ends in a traceback or an "internal error", writes nothing, and stays within a memory bound
(the address-space limit is lowered while the test runs) and a CPU bound (a timer stops a runaway).
The number of examples is fixed and small: CI shares two cores.
"""

from __future__ import annotations

import contextlib
import io
import re
import resource
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetdns import cli

EXAMPLE = Path(__file__).resolve().parents[3] / "hosts.example.yml"
MEMORY_HEADROOM = 1024**3
CPU_SECONDS_PER_RUN = 30
LOCATED = re.compile(r"^error: \S+:\d+:\d+: ")
SECRET = "c2VjcmV0LXRzaWcta2V5LWZvci1mdXp6"


class RunawayInput(BaseException):
    """A run used more CPU than any inventory should need (a BaseException: nothing may swallow it)."""


@contextlib.contextmanager
def bounded(cpu_seconds: float = CPU_SECONDS_PER_RUN) -> Iterator[None]:
    """While the block runs: address space limited to what is in use now plus MEMORY_HEADROOM, and
    RunawayInput raised after `cpu_seconds` of CPU. Both restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    in_use = _address_space()
    limit = in_use + MEMORY_HEADROOM if hard == resource.RLIM_INFINITY else min(in_use + MEMORY_HEADROOM, hard)
    previous = signal.signal(signal.SIGPROF, _runaway)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGPROF, previous)


def _runaway(signum: int, frame: object) -> None:
    raise RunawayInput("the run used more CPU than its bound")


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize in /proc/self/status")


def check_validate(files: dict[str, bytes], secret_in_use: bool = True) -> None:
    """Write `files` to a fresh directory, run validate on hosts.yml, check the contract.

    `secret_in_use`: SECRET stands under a secret option, so it must never print (where it is only
    a name or a value of no secret option, printing it is right)."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        before = _snapshot(root)
        out, err = io.StringIO(), io.StringIO()
        with bounded(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["validate", "-i", str(root / "hosts.yml")])
        stderr = err.getvalue()
        assert "internal error" not in stderr and "Traceback" not in stderr, stderr[-3000:]
        assert code in (0, 1), (code, stderr[-3000:])
        errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
        if code == 1:
            assert errors, stderr[-3000:]
            assert all(LOCATED.match(line) for line in errors), stderr[-3000:]
        if secret_in_use:
            assert SECRET not in out.getvalue() + stderr
        assert _snapshot(root) == before, "validate wrote or changed a file"


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


# -- inventories from hostile fragments -------------------------------------------------------------

SCALARS = st.sampled_from(
    [
        "x",
        "1",
        "yes",
        "~",
        "1:20",
        "2024-02-30",
        "192.0.2.1",
        "'2001:db8::1'",
        "'{{ other }}'",
        "'{{ missing }}'",
        "'{{ x | nope }}'",
        "'{{ '",
        "'{{ [[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]] }}'",
        "\"{{ lookup('env', 'HOME') }}\"",
        "\"{{ lookup('file', '/dev/null') }}\"",
        "\"{{ lookup('pipe', 'true') }}\"",
        "!unsafe '{{ x }}'",
        "!vault not-vault-data",
        "!!int nope",
        "!custom x",
        f"'{SECRET}'",
        f"\"{{{{ '{SECRET}' | b64decode }}}}\"",
        "*a0",
        "*a1",
        "*a2",
        "*undefined",
        "[]",
        "{}",
    ]
)
KEYS = st.sampled_from(["name", "type", "value", "ttl", "<<", "x", "fleetdns_names", "tsig_secret", "TSIG_SECRET"])


def _anchored(text: str, anchor: int | None) -> str:
    return f"&a{anchor} {text}" if anchor is not None else text


NODES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.builds(
            _anchored,
            st.lists(inner, max_size=9).map(lambda items: "[" + ", ".join(items) + "]"),
            st.none() | st.integers(0, 2),
        ),
        st.builds(
            _anchored,
            st.lists(st.tuples(KEYS, inner), max_size=5).map(
                lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
            ),
            st.none() | st.integers(0, 2),
        ),
    ),
    max_leaves=40,
)


HOSTS = st.sampled_from(["h1", "web[01:20]", "web[1:5:0]", "web[0:99999999]", "db:2222", "x[a:c]", "'[1:2'", "''"])


def _inventory(
    owner: str, other: str, server: str, secret: str, records: list[str], names: str, deep: int, host: str
) -> tuple[bool, str]:
    """The inventory text, and whether SECRET is written as the provider's TSIG secret."""
    return (
        SECRET in secret,
        f"""\
all:
  vars:
    other: {other}
    fleetdns_owner: {owner}
    fleetdns_providers:
      lab: {{type: rfc2136, server: {server}, tsig_key_name: k, tsig_secret: {secret}}}
    fleetdns_zones:
      example.test:
        provider: lab
        records: [{", ".join(records)}]
    deep: {"[" * deep}x{"]" * deep}
  hosts:
    {host}: {{fleetdns_names: {names}}}
""",
    )


@settings(max_examples=60)
@given(
    st.builds(
        _inventory,
        NODES,
        NODES,
        NODES,
        NODES,
        st.lists(NODES, max_size=4),
        NODES,
        st.sampled_from([0, 5, 99, 101, 400]),
        HOSTS,
    )
)
def test_hostile_fragments_never_break_validate(case: tuple[bool, str]) -> None:
    secret_in_use, text = case
    check_validate({"hosts.yml": text.encode()}, secret_in_use)


# -- hosts.example.yml, mutated --------------------------------------------------------------------


@settings(max_examples=40)
@given(st.data())
def test_mutated_example_never_breaks_validate(data: st.DataObject) -> None:
    text = bytearray(EXAMPLE.read_bytes())
    for _mutation in range(data.draw(st.integers(1, 4), label="mutations")):
        at = data.draw(st.integers(0, len(text)), label="offset")
        insert = data.draw(
            st.sampled_from([b"&a ", b"*a", b"[", b"]", b"{", b"}", b"{{", b"}}", b":", b"\t", b"\x00", b"\xff", b"'"])
            | st.binary(max_size=3),
            label="bytes",
        )
        replace = data.draw(st.integers(0, 2), label="replaced")
        text[at : at + replace] = insert
    check_validate({"hosts.yml": bytes(text)})


def test_the_bounds_themselves_hold() -> None:
    """The CPU timer and the memory limit really stop a run (else the properties above prove little)."""
    with pytest.raises(RunawayInput), bounded(cpu_seconds=0.2):
        while True:
            pass
    with pytest.raises(MemoryError), bounded():
        bytearray(2 * MEMORY_HEADROOM)
