"""`fetch`: one plain HTTP(S) GET/POST against an emulator, returning (status, body, headers) whatever the
status, with a well-formed User-Agent unless the test sends its own (or none: `agent=None`)."""

from __future__ import annotations

import base64
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

AGENT = "fleetdns-tests/1.0 ops@example.test"


def _fetch(
    url: str,
    auth: tuple[str, str] | None = None,
    agent: str | None = AGENT,
    ca_file: str | None = None,
    data: bytes | None = None,
) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, data=data)
    if agent is not None:
        request.add_header("User-Agent", agent)
    else:
        request.remove_header("User-agent")
    if auth is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    if agent is None:
        opener.addheaders = []  # urllib adds `Python-urllib/x.y` otherwise
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


@pytest.fixture
def fetch() -> Callable[..., tuple[int, str, dict[str, str]]]:
    return _fetch
