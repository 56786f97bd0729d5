"""The agent's Prometheus metrics as a node_exporter textfile: after every pass the file at
`metrics_file` is replaced atomically (temp file + rename, so the collector never reads half of
one) with the exposition text format: per name and provider the last success, update and failure
counters and the state; per family the address detected. Nothing secret is in it: names, provider
names, addresses and times only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .agent_state import AgentState, EntryState, entry_key
from .files import write_text

PREFIX = "fleetdns_agent_"
METRICS_MODE = 0o644  # node_exporter runs as its own user and must read the file

# name -> (type, help)
METRICS = {
    "last_pass_timestamp_seconds": ("gauge", "Unix time the last pass ended."),
    "address_detected": ("gauge", "1 when the last pass detected an address of this family to publish, else 0."),
    "detected_address_info": ("gauge", "The address of this family the last pass detected (value always 1)."),
    "last_success_timestamp_seconds": (
        "gauge",
        "Unix time the authoritative servers last answered the wanted address (0: never).",
    ),
    "last_update_timestamp_seconds": ("gauge", "Unix time the provider last accepted an update (0: never)."),
    "updates_total": ("counter", "Updates the provider accepted."),
    "failures_total": ("counter", "Failures of this name through this provider."),
    "consecutive_failures": ("gauge", "Failures in a row (0 after a success)."),
    "stopped": ("gauge", "1 when the provider refused for good and waits for a config change."),
    "ok": ("gauge", "1 when the last pass left this name current through this provider."),
}


def escape(value: str) -> str:
    """A label value as the text format wants it (backslash, double quote and newline escaped)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{key}="{escape(value)}"' for key, value in labels.items()) + "}"


def _number(value: float | int | None) -> str:
    if value is None:
        return "0"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(
    entries: Iterable[tuple[str, str, bool]],
    state: AgentState,
    detected: dict[int, str | None],
    now: float,
) -> str:
    """The textfile for `entries` (name, provider, ok in the last pass) and `detected` (family ->
    address or None)."""
    samples: dict[str, list[str]] = {key: [] for key in METRICS}
    samples["last_pass_timestamp_seconds"].append(_number(now))
    for family, address in sorted(detected.items()):
        family_label = {"family": f"ipv{family}"}
        samples["address_detected"].append(_labels(family_label) + " " + ("1" if address else "0"))
        if address:
            samples["detected_address_info"].append(_labels({**family_label, "address": address}) + " 1")
    for name, provider, ok in entries:
        entry = state.entries.get(entry_key(name, provider)) or EntryState()
        labels = _labels({"name": name.rstrip("."), "provider": provider})
        values: dict[str, Any] = {
            "last_success_timestamp_seconds": entry.last_checked,
            "last_update_timestamp_seconds": entry.last_update,
            "updates_total": entry.updates,
            "failures_total": entry.failures_total,
            "consecutive_failures": entry.failures,
            "stopped": 1 if entry.stopped else 0,
            "ok": 1 if ok else 0,
        }
        for key, value in values.items():
            samples[key].append(labels + " " + _number(value))
    lines: list[str] = []
    for key, (kind, text) in METRICS.items():
        metric = PREFIX + key
        lines += [f"# HELP {metric} {text}", f"# TYPE {metric} {kind}"]
        lines += [f"{metric}{sample}" if sample.startswith("{") else f"{metric} {sample}" for sample in samples[key]]
    return "\n".join(lines) + "\n"


def write_metrics(path: str, text: str) -> None:
    write_text(path, text, mode=METRICS_MODE)
