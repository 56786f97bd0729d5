from __future__ import annotations

import io
import logging
import sys

import pytest

from fleetdns.output import MASK, Output, RedactingStream, Redactor, redirect, setup_logging, use_color

SECRET = "s3cr3t+/TSIG=="


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_environment_secrets_by_name_and_length() -> None:
    redactor = Redactor()
    redactor.add_from_environment(
        {"FLEETDNS_LAB_TSIG": "long-enough-value", "API_TOKEN": "short", "HOME": "/root/not-a-secret"}
    )
    assert redactor.scrub("long-enough-value short /root/not-a-secret") == f"{MASK} short /root/not-a-secret"


def test_stream_catches_a_secret_split_across_writes() -> None:
    target = io.StringIO()
    redactor = Redactor()
    redactor.add(SECRET)
    stream = RedactingStream(target, redactor)
    stream.write("secret: " + SECRET[:4])
    assert target.getvalue() == ""  # held until the line ends
    stream.write(SECRET[4:] + "\nnext")
    stream.flush()
    assert target.getvalue() == f"secret: {MASK}\nnext"


def test_redirect_covers_print_logging_and_restores_streams(capsys: pytest.CaptureFixture[str]) -> None:
    redactor = Redactor()
    redactor.add(SECRET)
    before = sys.stdout, sys.stderr
    with redirect(redactor):
        setup_logging(debug=True)
        print(f"out {SECRET}")
        logging.getLogger("dns").debug("sending key %s", SECRET)
        print(f"err {SECRET}", file=sys.stderr)
    setup_logging(debug=False)
    assert (sys.stdout, sys.stderr) == before
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
    assert f"out {MASK}" in captured.out
    assert f"DEBUG dns: sending key {MASK}" in captured.err and f"err {MASK}" in captured.err


@pytest.mark.parametrize(
    ("tty", "env", "expected"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        (True, {"TERM": "dumb"}, False),
    ],
)
def test_colour_decision(tty: bool, env: dict[str, str], expected: bool) -> None:
    stream = FakeTTY() if tty else io.StringIO()
    assert use_color(stream, env) is expected


def test_a_shorter_counter_covers_the_longer_one_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = FakeTTY()
    monkeypatch.setattr(sys, "stderr", screen)
    out = Output()
    out.progress("long-zone-name.test.", 100, 100)
    out.progress("b.test.", 1, 1)  # two zones applied at once report on the same line
    shown = screen.getvalue().split("\r")[-1]
    assert shown.rstrip() == "  b.test.: 1/1" and len(shown) == len("  long-zone-name.test.: 100/100")
