"""The two ways a DDNS service can refuse an update, so a caller (the agent's loop, a module) knows
whether to try again.

- UpdateRefusedError: the service's answer is definitive (bad credentials, unknown host, blocked
  for abuse, client refused). Sending the same request again cannot help and, for the dyndns2
  services, gets the client or the host blocked: the name is not retried until a person changes
  the configuration.
- UpdateDeferredError: the service is in trouble (maintenance, DNS error, 5xx, timeouts). Try again
  later, no sooner than `retry_after` seconds.

Any other ProviderError of an update-only provider (an answer it does not know) is a failure too:
treat it like a deferred one, with backoff.
"""

from __future__ import annotations

from ..errors import ProviderError


class UpdateRefusedError(ProviderError):
    """A definitive refusal: do not send this update again until the configuration changes.
    `code` is the service's answer code (badauth, nohost, abuse, KO, ...)."""

    def __init__(self, message: str, hint: str = "", code: str = "") -> None:
        super().__init__(message, hint)
        self.code = code


class UpdateDeferredError(ProviderError):
    """A temporary failure: try again no sooner than `retry_after` seconds."""

    def __init__(self, message: str, hint: str = "", code: str = "", retry_after: float = 300.0) -> None:
        super().__init__(message, hint)
        self.code = code
        self.retry_after = retry_after
