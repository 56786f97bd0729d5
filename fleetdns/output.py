"""Everything the CLI prints goes through here: secret redaction, colour, progress, logging.

`redirect()` wraps sys.stdout and sys.stderr in streams that scrub every known secret from each
line before it is written, so plans, messages, log records and --debug tracebacks alike can never
show a TSIG secret or an API token, whichever code printed them.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from ansible_collections.fleetdns.ddns.plugins.module_utils import redact as engine_redact
from ansible_collections.fleetdns.ddns.plugins.module_utils.redact import MASK

__all__ = ["MASK", "RedactingStream", "Redactor", "redirect", "setup_logging", "use_color"]

# Environment variables whose values are treated as secrets from the start (before the inventory
# is read), so even an error while loading it cannot show them. Short values are ignored: a variable
# such as DEBUG_TOKEN=1 is a guess at a secret, not a known one.
_SECRET_ENV = re.compile(r"(SECRET|TOKEN|PASSW|PASSWD|API_?KEY|TSIG|CREDENTIAL|PRIVATE)", re.IGNORECASE)
_MIN_ENV_SECRET = 8


class Redactor(engine_redact.Redactor):
    """The engine's redactor (see plugins/module_utils/redact.py), plus secrets guessed from the environment."""

    def add_from_environment(self, environ: dict[str, str] | os._Environ[str] | None = None) -> None:
        """Secrets that may be templated into the inventory through lookup('env', ...)."""
        for name, value in (os.environ if environ is None else environ).items():
            if _SECRET_ENV.search(name) and len(value) >= _MIN_ENV_SECRET:
                self.add(value)


class RedactingStream(io.TextIOBase):
    """A text stream that buffers up to each line end (or \\r) and writes it scrubbed.

    Buffering per line means a secret split across several write() calls is still caught.
    """

    def __init__(self, target: TextIO, redactor: Redactor) -> None:
        super().__init__()
        self.target = target
        self.redactor = redactor
        self._buffer = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        cut = max(self._buffer.rfind("\n"), self._buffer.rfind("\r"))
        if cut >= 0:
            ready, self._buffer = self._buffer[: cut + 1], self._buffer[cut + 1 :]
            self.target.write(self.redactor.scrub(ready))
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            self.target.write(self.redactor.scrub(self._buffer))
            self._buffer = ""
        self.target.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.target, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self.target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", "utf-8") or "utf-8"


@contextlib.contextmanager
def redirect(redactor: Redactor) -> Iterator[None]:
    """Route sys.stdout and sys.stderr through the redactor for the duration of a command."""
    old_out, old_err = sys.stdout, sys.stderr
    out, err = RedactingStream(old_out, redactor), RedactingStream(old_err, redactor)
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        yield
    finally:
        for stream in (out, err):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = old_out, old_err


def use_color(stream: TextIO, environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """Colour only on a terminal, never when NO_COLOR is set (https://no-color.org) or TERM=dumb."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", "") != "" or env.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class Output:
    """What a command prints: results to stdout, messages and progress to stderr."""

    def __init__(self, debug: bool = False) -> None:
        self.debug = debug
        self._progress_shown = False
        self._progress_width = 0  # length of the counter on screen, to cover it when the next is shorter

    @property
    def color(self) -> bool:
        return use_color(sys.stdout)

    def result(self, text: str) -> None:
        """Command output proper (plans, JSON, Markdown): stdout."""
        self._end_progress()
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
        sys.stdout.flush()

    def info(self, message: str) -> None:
        self._end_progress()
        print(message, file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        self.info(f"warning: {message}")

    def error(self, message: str) -> None:
        self._end_progress()
        for line in message.splitlines() or [""]:
            print(f"error: {line}" if not line.startswith("  ") else line, file=sys.stderr)
        sys.stderr.flush()

    def errors(self, messages: Iterable[str]) -> None:
        for message in messages:
            self.error(message)

    def progress(self, label: str, done: int, total: int) -> None:
        """A live counter on a terminal; nothing on a pipe (the report lines already say enough)."""
        if not sys.stderr.isatty():
            return
        counter = f"\r  {label}: {done}/{total}"
        sys.stderr.write(counter.ljust(self._progress_width))  # spaces over a longer counter shown before
        self._progress_width = len(counter)
        sys.stderr.flush()
        self._progress_shown = True

    def _end_progress(self) -> None:
        if self._progress_shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._progress_shown = False
            self._progress_width = 0

    def confirm(self, question: str) -> bool:
        """Ask on the terminal; only 'yes' proceeds."""
        self._end_progress()
        sys.stderr.write(f"{question} Only 'yes' will be accepted: ")
        sys.stderr.flush()
        try:
            answer = input()
        except EOFError:
            return False
        return answer.strip() == "yes"


def setup_logging(debug: bool) -> None:
    """Log records go to stderr (through the redacting stream); --debug shows library detail."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_fleetdns", False):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler._fleetdns = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s" if debug else "%(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of the record, i.e. the redacting stream."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass
