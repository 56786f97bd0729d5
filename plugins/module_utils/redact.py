"""The one rule for hiding secrets in text, shared by the engine, the modules, the CLI and the agent.

Every known secret is replaced by MASK wherever it occurs, in any letter case (a secret used as a
record name comes back lower-cased), also in its repr- and JSON-escaped forms. A secret shorter
than WHOLE_TOKEN_BELOW characters is masked only where it stands alone (not inside a longer word or
number): masking a one-letter Vault password inside every word would garble the output and, worse,
show which letter it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

MASK = "********"
WHOLE_TOKEN_BELOW = 8


class Redactor:
    """Collects secrets and scrubs them from text; one compiled pattern, rebuilt only when one is added."""

    def __init__(self, secrets: Iterable[object] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: object) -> None:
        """Register values (str, bytes, or anything str() gives the secret of); empty ones are ignored."""
        for secret in secrets:
            if secret is None:
                continue
            text = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else str(secret)
            text = text.strip("\r\n")
            if not text.strip():
                continue
            forms = {text, repr(text)[1:-1], json.dumps(text)[1:-1]}
            if not forms <= self._secrets:
                self._secrets |= forms
                self._pattern = None

    def __len__(self) -> int:
        return len(self._secrets)

    def scrub(self, text: str) -> str:
        """`text` with every registered secret replaced by MASK."""
        if not self._secrets or not text:
            return text
        if self._pattern is None:
            self._pattern = _pattern(self._secrets)
        return self._pattern.sub(MASK, text)


def redact(text: str, secrets: Iterable[object]) -> str:
    """One-off scrub of `text` (build a Redactor to scrub many texts with the same secrets)."""
    return Redactor(secrets).scrub(text)


def _pattern(secrets: set[str]) -> re.Pattern[str]:
    # Longest first, so a secret that contains another one is masked whole.
    ordered = sorted(secrets, key=len, reverse=True)
    parts = [re.escape(s) if len(s) >= WHOLE_TOKEN_BELOW else rf"(?<!\w){re.escape(s)}(?!\w)" for s in ordered]
    return re.compile("|".join(parts), re.IGNORECASE)
