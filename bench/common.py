"""What the benchmarks share: the records' addresses, the peer's own venv, timing one command run.

Imported by the bench/*_bench.py scripts (bench/ is on sys.path when one of them runs).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def address(i: int) -> str:
    """The i-th benchmark address (10.x.y.z): distinct for every i below 16,000,000, never .0."""
    return f"10.{i // 62500}.{i // 250 % 250}.{i % 250 + 1}"


def ensure_venv(venv: Path, packages: list[str]) -> Path:
    """A venv of its own holding the pinned `packages` (made on first use and again when the pins
    change, never the project's venv); returns its bin directory."""
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not marker.exists() or marker.read_text() != " ".join(packages):
        print(f"preparing {venv} ({', '.join(packages)}) ...", flush=True)
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages], check=True
        )
        marker.write_text(" ".join(packages))
    return venv / "bin"


def run_timed(argv: list[str], env: dict[str, str], expect: int, what: str) -> float:
    """Seconds from start to exit of one command (no terminal, output captured); the benchmark stops
    with the end of its output when it exits with anything but `expect`."""
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != expect:
        sys.exit(
            f"{what} exited {result.returncode}, expected {expect}:\n{result.stdout[-1500:]}{result.stderr[-3000:]}"
        )
    return elapsed
