"""The CLI's command runner for the engine (named-checkzone before a zone file is installed)."""

from __future__ import annotations

import subprocess


def run_command(argv: list[str], timeout: float) -> tuple[int, str]:
    """Exit code and stdout + stderr; TimeoutError when it runs past `timeout` seconds."""
    try:
        result = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"{argv[0]} ran past {timeout:g} s") from None
    return result.returncode, result.stdout + result.stderr
