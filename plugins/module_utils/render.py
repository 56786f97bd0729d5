"""Plan rendering: terraform-like text (optionally coloured), JSON, and Markdown for PR comments.

Pure functions over plan data (the CLI prints plans with them); every renderer reads the same
per-change line model (`change_lines`), so text and Markdown agree.
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from .names import relative_name
from .plan import ACTIONS, Change, Plan, ZonePlan

# Sign shown in front of a change, and the verb used in summaries ("3 to create" / "3 created").
SIGNS = {"create": "+", "update": "~", "delete": "-", "adopt": ">", "register": "*"}
PAST = {"create": "created", "update": "updated", "delete": "deleted", "adopt": "adopted", "register": "registered"}
EXPLAIN = {
    "adopt": "existing record set, now owned by fleetdns",
    "register": "device name; its agent sets the address",
}

_RESET = "\033[0m"
_STYLES = {
    "create": "\033[32m",  # green
    "add": "\033[32m",
    "update": "\033[33m",  # yellow
    "delete": "\033[31m",  # red
    "remove": "\033[31m",
    "adopt": "\033[36m",  # cyan
    "register": "\033[35m",  # magenta
    "header": "\033[1m",  # bold
    "note": "\033[2m",  # dim
    "summary": "\033[1m",
}


class Line(NamedTuple):
    """One rendered line: its style (an action, 'add', 'remove', 'same', ...), sign and text (a
    tuple: a plan of 10,000 changes makes 20,000 of them, three times faster than a dataclass)."""

    style: str
    sign: str
    text: str
    value: bool = False  # a value line, indented under its change


def _ttl_text(change: Change) -> str:
    before, after = change.before, change.after
    if before and after and before.ttl != after.ttl:
        return f"ttl {before.ttl} -> {after.ttl}"
    rrset = after or before
    return f"ttl {rrset.ttl}" if rrset else ""


def change_lines(change: Change, zone: str) -> list[Line]:
    """The head line of a change and one line per value (+ added, - removed, blank unchanged)."""
    name = relative_name(change.name, zone)
    ttl = _ttl_text(change)
    head = f"{change.action:<8} {name} {change.type}" + (f" ({ttl})" if ttl else "")
    if change.action in EXPLAIN:
        head += f"  # {EXPLAIN[change.action]}"
    lines = [Line(change.action, SIGNS.get(change.action, "?"), head)]
    before = change.before.values if change.before else frozenset()
    after = change.after.values if change.after else frozenset()
    if change.action == "register":
        if after:
            lines += [Line("same", " ", value, True) for value in sorted(after)]
        else:
            lines.append(Line("note", " ", "(no address yet)", True))
        return lines
    if change.action == "delete" and not before:
        lines.append(Line("note", " ", "(no record; only its ownership marker is removed)", True))
        return lines
    for value in sorted(before | after):
        if value in before and value in after:
            lines.append(Line("same", " ", value, True))
        elif value in after:
            lines.append(Line("add", "+", value, True))
        else:
            lines.append(Line("remove", "-", value, True))
    return lines


def counts_text(counts: dict[str, int], past: bool = False) -> str:
    """'2 to create, 1 to delete' (or '2 created, 1 deleted'); only actions that occur."""
    parts = [f"{counts[a]} {PAST[a] if past else 'to ' + a}" for a in ACTIONS if counts.get(a)]
    return ", ".join(parts) if parts else ("nothing changed" if past else "no changes")


def summary_line(plan: Plan) -> str:
    """The last line of a text plan."""
    if not plan.has_changes:
        return "No changes. The DNS matches the inventory."
    zones = sum(1 for z in plan.zones if z.changes)
    return f"Plan: {counts_text(plan.counts())} (in {zones} zone{'s' if zones != 1 else ''})."


def _paint(text: str, style: str, color: bool) -> str:
    code = _STYLES.get(style) if color else None
    return f"{code}{text}{_RESET}" if code else text


def zone_header(zone_plan: ZonePlan) -> str:
    whole = "" if zone_plan.marked else ", owned whole"
    return f"zone {zone_plan.zone} (provider {zone_plan.provider}{whole})"


def render_zone_text(zone_plan: ZonePlan, color: bool = False) -> list[str]:
    out = [_paint(zone_header(zone_plan), "header", color)]
    for change in zone_plan.changes:
        for style, sign, text, value in change_lines(change, zone_plan.zone):
            indent = "      " if value else "  "
            out.append(f"{indent}{_paint(f'{sign} {text}', style, color)}" if color else f"{indent}{sign} {text}")
    if not zone_plan.changes:
        out.append("  no changes")
    out.extend(_paint(f"  note: {note}", "note", color) for note in zone_plan.notes)
    return out


def render_text(plan: Plan, color: bool = False) -> str:
    """Terraform-like text: one block per zone, a blank line between zones, a summary last."""
    blocks = ["\n".join(render_zone_text(z, color)) for z in plan.zones]
    blocks.append(_paint(summary_line(plan), "summary", color))
    return "\n\n".join(blocks) + "\n"


def plan_json(plan: Plan) -> dict:
    """Plan.to_dict() plus the top-level 'changes_pending' boolean CI pipelines test."""
    data = plan.to_dict()
    data["changes_pending"] = plan.has_changes
    return data


def render_json(plan: Plan) -> str:
    return json.dumps(plan_json(plan), indent=2, sort_keys=False) + "\n"


def _md_escape(text: str) -> str:
    """Text safe in a table cell or a list item: no HTML, no table breaks, no code spans."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_|\[\]])", r"\\\1", text)


def _fence(body: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def render_markdown(plan: Plan) -> str:
    """For a pull-request comment: a summary table, then a collapsible diff per zone."""
    out = [f"### fleetdns plan: {counts_text(plan.counts())}", ""]
    out.append("| Zone | Provider | " + " | ".join(a.capitalize() for a in ACTIONS) + " |")
    out.append("|---|---|" + "--:|" * len(ACTIONS))
    for zone_plan in plan.zones:
        counts = zone_plan.counts()
        cells = [_md_escape(zone_plan.zone), _md_escape(zone_plan.provider), *(str(counts[a]) for a in ACTIONS)]
        out.append("| " + " | ".join(cells) + " |")
    for zone_plan in plan.zones:
        if not zone_plan.changes and not zone_plan.notes:
            continue
        total = len(zone_plan.changes)
        out += ["", "<details>"]
        out.append(
            f"<summary>{_md_escape(zone_plan.zone)} via {_md_escape(zone_plan.provider)}"
            f"{'' if zone_plan.marked else ' (owned whole)'}: {total} change{'s' if total != 1 else ''}</summary>"
        )
        out.append("")
        if zone_plan.changes:
            body = []
            for change in zone_plan.changes:
                for line in change_lines(change, zone_plan.zone):
                    body.append(f"{line.sign}     {line.text}" if line.value else f"{line.sign} {line.text}")
            fence = _fence("\n".join(body))
            out += [f"{fence}diff", *body, fence]
        if zone_plan.notes:
            out.append("")
            out += [f"- **note:** {_md_escape(note)}" for note in zone_plan.notes]
        out += ["", "</details>"]
    out += ["", f"_{_md_escape(summary_line(plan))}_"]
    return "\n".join(out) + "\n"


def zone_result_line(zone_plan: ZonePlan) -> str:
    """'example.test. (default): 2 created, 1 deleted' for an apply summary."""
    return f"{zone_plan.zone} ({zone_plan.provider}): {counts_text(zone_plan.counts(), past=True)}"


def zone_partial_line(zone_plan: ZonePlan, done: int, cause: str) -> str:
    """'example.test. (lab): 1,418 of 10,000 changes applied before the interrupt' for an apply
    that stopped inside a zone; `done` is what the provider confirmed."""
    total = len(zone_plan.changes)
    return (
        f"{zone_plan.zone} ({zone_plan.provider}): {done:,} of {total:,} change{'s' if total != 1 else ''} "
        f"applied before the {cause}"
    )
