"""providers.http_api against a local HTTP server on 127.0.0.1 that answers from a script: retries,
429 in both Retry-After forms, ambiguous writes, the http-only-to-loopback rule, the signing hook
(called afresh for every attempt) and the body-level throttling hook."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import ProviderError
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.http_api import (
    AmbiguousWriteError,
    HttpApi,
    HttpStatusError,
    Outgoing,
    RateLimitedError,
    Throttled,
    TransportError,
    check_base_url,
    resolve_ca_bundle,
    retry_after,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.signing import Credentials, tc3_sign
from ansible_collections.fleetdns.ddns.plugins.module_utils.redact import MASK

SECRET = "s3cr3t-t0ken-value-0123456789"
OK = (200, {}, b'{"ok": true}')


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    """What the server answers, request by request (the last entry repeats), and what it was sent.
    An answer is (status, headers, body), "drop" (close without answering) or ("sleep", seconds)."""

    answers: list[Any] = field(default_factory=lambda: [OK])
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, seen: Seen) -> Any:
        with self.lock:
            self.seen.append(seen)
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (the deadline test shuts its socket) is expected, not an error."""


class Server:
    def __init__(self) -> None:
        self.script = Script()
        script = self.script

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = script.next(Seen(self.command, self.path, dict(self.headers), body))
                if answer == "drop":
                    self.close_connection = True
                    return
                if answer[0] == "sleep":
                    time.sleep(answer[1])
                    answer = OK
                status, headers, payload = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

        self.httpd = _Quiet(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


def api(server: Server, slept: list[float], **kwargs: Any) -> HttpApi:
    kwargs.setdefault("attempts", 4)
    return HttpApi(
        server.url, service="Example", provider_type="example", secrets=[SECRET], sleep=slept.append, **kwargs
    )


# ---- retries --------------------------------------------------------------------------------------------


def test_a_read_is_retried_after_5xx_with_bounded_backoff(server: Server) -> None:
    server.script.answers = [(503, {}, b"{}"), (502, {}, b"{}"), OK]
    slept: list[float] = []
    client = api(server, slept, backoff=0.5, max_backoff=0.75)
    response = client.request("GET", "/zones", params={"name": "example.test"})
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert slept == [0.5, 0.75]  # doubling, capped at max_backoff
    assert [s.path for s in server.script.seen] == ["/api/zones?name=example.test"] * 3
    assert client.requests_sent == 3


def test_a_read_that_keeps_failing_ends_with_the_last_status(server: Server) -> None:
    server.script.answers = [(500, {}, b'{"errors": []}')]
    client = api(server, [])
    with pytest.raises(HttpStatusError) as caught:
        client.request("GET", "/zones")
    assert caught.value.status == 500 and caught.value.response.json() == {"errors": []}
    assert "HTTP 500 from Example, still failing after 4 attempts" in caught.value.message
    assert "server error" in caught.value.hint and len(server.script.seen) == 4


def test_a_write_after_5xx_is_ambiguous_and_not_repeated(server: Server) -> None:
    server.script.answers = [(502, {}, b"{}")]
    client = api(server, [])
    with pytest.raises(AmbiguousWriteError, match="POST /batch: HTTP 502 from Example"):
        client.request("POST", "/batch", body={"posts": []})
    assert len(server.script.seen) == 1


def test_a_write_whose_answer_is_lost_is_ambiguous(server: Server) -> None:
    server.script.answers = ["drop"]
    with pytest.raises(AmbiguousWriteError, match="POST /batch: connection failed"):
        api(server, []).request("POST", "/batch", body={"posts": []})
    assert len(server.script.seen) == 1


def test_a_read_whose_answer_is_lost_is_retried(server: Server) -> None:
    server.script.answers = ["drop", OK]
    slept: list[float] = []
    assert api(server, slept).request("GET", "/zones").status_code == 200
    assert len(server.script.seen) == 2 and slept == [0.5]


def test_a_post_marked_idempotent_is_retried_like_a_read(server: Server) -> None:
    server.script.answers = [(503, {}, b"{}"), OK]
    assert api(server, []).request("POST", "/describe", body={}, idempotent=True).status_code == 200
    assert len(server.script.seen) == 2


def test_an_exchange_past_the_deadline_is_ended(server: Server) -> None:
    server.script.answers = [("sleep", 2.0)]
    client = api(server, [], deadline=0.3)
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"Example API too slow: GET /zones: .* deadline of 0\.3 s"):
        client.request("GET", "/zones")
    with pytest.raises(AmbiguousWriteError, match=r"deadline of 0\.3 s"):
        client.request("POST", "/batch", body={})
    assert time.monotonic() - started < 1.8 and len(server.script.seen) == 2  # never retried


def test_the_deadline_caps_the_retries_of_a_stalled_read(server: Server) -> None:
    """Each attempt waits at most what is left of the deadline, so 3 attempts of 1 s each end at the
    deadline of 1.5 s, during the second attempt, not after 3 s."""
    server.script.answers = [("sleep", 5.0)]
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        api(server, [], attempts=3, timeout=1.0, deadline=1.5, backoff=0.01).request("GET", "/zones")
    elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 2.5, elapsed
    assert (caught.value.kind, caught.value.attempts) == ("deadline", 2) and len(server.script.seen) == 2
    assert "Example API too slow: GET /zones" in caught.value.message and "deadline of 1.5 s" in caught.value.message


def test_no_attempt_starts_when_its_backoff_would_pass_the_deadline(server: Server) -> None:
    server.script.answers = ["drop"]
    slept: list[float] = []
    with pytest.raises(TransportError) as lost:
        api(server, slept, backoff=5.0, deadline=2.0).request("GET", "/zones")
    assert (lost.value.kind, lost.value.attempts) == ("deadline", 1) and slept == [] and len(server.script.seen) == 1
    assert "GET /zones: connection failed" in lost.value.message and "deadline of 2 s" in lost.value.message
    server.script.answers = [(503, {}, b"{}")]
    with pytest.raises(HttpStatusError) as failing:
        api(server, slept, backoff=5.0, deadline=2.0).request("GET", "/zones")
    assert failing.value.attempts == 1 and slept == []
    assert "still failing after 1 attempts within the deadline of 2 s" in failing.value.message
    server.script.answers = [(429, {"Retry-After": "30"}, b"{}")]
    with pytest.raises(RateLimitedError, match=r"retry after 30 s, past the deadline of 2 s"):
        api(server, slept, deadline=2.0).request("POST", "/batch", body={})
    assert slept == []


def test_a_final_transport_failure_says_its_kind(server: Server) -> None:
    server.script.answers = ["drop"]
    with pytest.raises(TransportError) as lost:
        api(server, [], attempts=2).request("GET", "/zones")
    host = server.url.split("/")[2]
    assert (lost.value.kind, lost.value.host, lost.value.attempts) == ("unreachable", host, 2)
    assert lost.value.detail.startswith("connection failed: ") and len(server.script.seen) == 2
    server.script.answers = [("sleep", 2.0)]
    with pytest.raises(TransportError) as slow:
        api(server, [], deadline=0.3).request("GET", "/zones")
    assert (slow.value.kind, slow.value.attempts) == ("deadline", 1)


def test_a_tls_failure_is_a_transport_error_of_kind_tls(server: Server) -> None:
    tls_url = server.url.replace("http://", "https://")  # TLS spoken to a plain HTTP server
    client = HttpApi(tls_url, service="Example", provider_type="example", attempts=3)
    with pytest.raises(TransportError) as caught:
        client.request("GET", "/zones")
    assert caught.value.kind == "tls" and "TLS verification" in caught.value.message
    assert "ca_bundle" in caught.value.hint and caught.value.attempts == 1  # never retried


# ---- throttling ---------------------------------------------------------------------------------------


def test_429_waits_retry_after_seconds_also_for_a_write(server: Server) -> None:
    server.script.answers = [(429, {"Retry-After": "7"}, b"{}"), OK]
    slept: list[float] = []
    assert api(server, slept).request("POST", "/batch", body={"posts": []}).status_code == 200
    assert slept == [7.0] and len(server.script.seen) == 2  # a 429 was not processed: safe to send again


def test_429_waits_until_a_retry_after_http_date(server: Server) -> None:
    server.script.answers = [(429, {"Retry-After": formatdate(time.time() + 30, usegmt=True)}, b"{}"), OK]
    slept: list[float] = []
    assert api(server, slept).request("GET", "/zones").status_code == 200
    assert len(slept) == 1 and 27 <= slept[0] <= 30


def test_429_without_a_usable_retry_after_uses_the_backoff(server: Server) -> None:
    server.script.answers = [(429, {"Retry-After": "soon"}, b"{}"), (429, {}, b"{}"), OK]
    slept: list[float] = []
    assert api(server, slept).request("GET", "/zones").status_code == 200
    assert slept == [0.5, 1.0]


def test_429_asking_for_too_long_a_wait_is_a_rate_limit_error(server: Server) -> None:
    server.script.answers = [(429, {"Retry-After": "900"}, b'{"errors": [1]}')]
    slept: list[float] = []
    client = api(server, slept, max_retry_after=300, rate_limit_hint="the API allows 5 calls a second")
    with pytest.raises(RateLimitedError) as caught:
        client.request("GET", "/zones")
    assert caught.value.message == "Example rate limit reached on GET /zones (HTTP 429, retry after 900 s)"
    assert caught.value.hint == "the API allows 5 calls a second" and caught.value.status == 429
    assert slept == [] and len(server.script.seen) == 1


def _body_throttle(response: Any) -> Throttled | None:
    code = response.json().get("Code")
    return Throttled(f"throttled: {code}") if code == "Throttling.User" else None


def test_throttling_in_a_200_body_is_retried_through_the_hook(server: Server) -> None:
    throttled = (200, {}, b'{"Code": "Throttling.User"}')
    server.script.answers = [throttled, throttled, (200, {}, b'{"Code": "OK"}')]
    slept: list[float] = []
    client = api(server, slept, throttled=_body_throttle)
    assert client.request("POST", "/", body={"Action": "UpdateDomainRecord"}).json() == {"Code": "OK"}
    assert slept == [0.5, 1.0] and len(server.script.seen) == 3


def test_throttling_in_the_body_on_every_attempt_is_a_rate_limit_error(server: Server) -> None:
    server.script.answers = [(200, {}, b'{"Code": "Throttling.User"}')]
    with pytest.raises(RateLimitedError) as caught:
        api(server, [], throttled=_body_throttle).request("POST", "/", body={})
    assert caught.value.status == 200 and "(throttled: Throttling.User, retry after" in caught.value.message
    assert len(server.script.seen) == 4


def test_the_throttle_hook_does_not_see_server_errors(server: Server) -> None:
    seen: list[int] = []

    def hook(response: Any) -> Throttled | None:
        seen.append(response.status_code)
        return None

    server.script.answers = [(503, {}, b"{}"), (404, {}, b"{}")]
    assert api(server, [], throttled=hook).request("GET", "/x").status_code == 404
    assert seen == [404]


# ---- signing ------------------------------------------------------------------------------------------


def test_the_signer_signs_every_attempt_afresh(server: Server) -> None:
    server.script.answers = [(503, {}, b"{}"), (429, {"Retry-After": "0"}, b"{}"), OK]
    clock = iter([1_700_000_000, 1_700_000_005, 1_700_000_010])
    credentials = Credentials("AKIDEXAMPLE", SECRET)
    calls: list[Outgoing] = []

    def sign(outgoing: Outgoing) -> None:
        calls.append(outgoing)
        signed = tc3_sign(
            credentials,
            service="dnspod",
            host=outgoing.host,
            action="DescribeRecordList",
            version="2021-03-23",
            body=outgoing.body,
            timestamp=next(clock),
        )
        outgoing.headers.update(signed.headers)

    client = api(server, [], sign=sign)
    client.request("POST", "/", body={"Domain": "example.test"}, idempotent=True)
    assert len(calls) == 3
    stamps = [s.headers["X-TC-Timestamp"] for s in server.script.seen]
    assert stamps == ["1700000000", "1700000005", "1700000010"]
    signatures = {s.headers["Authorization"] for s in server.script.seen}
    assert len(signatures) == 3  # a fresh timestamp gives a fresh signature
    for seen in server.script.seen:
        assert seen.body == json.dumps({"Domain": "example.test"}).encode()  # the bytes that were signed
        assert hashlib.sha256(seen.body).hexdigest() in _tc3_canonical(credentials, seen)
        assert SECRET not in json.dumps(seen.headers)


def _tc3_canonical(credentials: Credentials, seen: Seen) -> str:
    return tc3_sign(
        credentials,
        service="dnspod",
        host=seen.headers["Host"],
        action="DescribeRecordList",
        version="2021-03-23",
        body=seen.body,
        timestamp=int(seen.headers["X-TC-Timestamp"]),
    ).canonical_request


def test_the_signer_may_add_query_parameters(server: Server) -> None:
    def sign(outgoing: Outgoing) -> None:
        outgoing.params.append(("Signature", f"sig-of-{len(outgoing.params)}-params"))

    api(server, [], sign=sign).request("GET", "/", params={"Action": "DescribeDomainRecords"})
    assert server.script.seen[0].path == "/api/?Action=DescribeDomainRecords&Signature=sig-of-1-params"


# ---- policy -------------------------------------------------------------------------------------------


def test_plain_http_only_to_loopback() -> None:
    assert check_base_url("http://127.0.0.1:8080/v4") is None
    assert check_base_url("http://[::1]/v4") is None and check_base_url("http://localhost/v4") is None
    assert check_base_url("https://api.example.test/v4") is None
    problem = check_base_url("http://api.example.test/v4")
    assert problem is not None and "plain http to a non-loopback host; use https" in problem
    assert "is not an https:// URL" in (check_base_url("ftp://api.example.test") or "")
    with pytest.raises(ProviderError, match="plain http to a non-loopback host"):
        HttpApi("http://192.0.2.1/v4", service="Example", provider_type="example")


def test_a_whole_url_the_api_handed_out_follows_the_same_rules(server: Server) -> None:
    client = api(server, [])
    handed_out = server.url.replace("/api", f"/update.php?{SECRET}")
    assert client.request("GET", handed_out, [("address", "192.0.2.1")]).status_code == 200
    assert server.script.seen[0].path == f"/update.php?{SECRET}&address=192.0.2.1"
    with pytest.raises(ProviderError, match=r"URL .* uses plain http to a non-loopback host") as caught:
        client.request("GET", f"http://update.example.test/u/{SECRET}")
    assert SECRET not in str(caught.value) and len(server.script.seen) == 1


def test_a_secret_hidden_later_is_scrubbed_too(server: Server) -> None:
    server.script.answers = [(500, {}, b"{}")]
    client = api(server, [], attempts=1)
    client.hide("later-token-42")
    with pytest.raises(HttpStatusError) as caught:
        client.request("GET", "/u/later-token-42")
    assert "later-token-42" not in str(caught.value) and f"/u/{MASK}" in caught.value.message


def test_without_an_option_name_the_url_problem_stands_alone() -> None:
    assert check_base_url("http://api.example.test", option=None) == (
        "plain http to a non-loopback host; use https (credentials must not travel in clear)"
    )
    assert check_base_url("ftp://x", option=None) == "'ftp://x' is not an https:// URL"


def test_secrets_are_scrubbed_from_messages(server: Server) -> None:
    server.script.answers = [(500, {}, b"{}")]
    client = api(server, [])
    with pytest.raises(HttpStatusError) as caught:
        client.request("GET", f"/keys/{SECRET}")
    assert SECRET not in str(caught.value) and f"/keys/{MASK}" in caught.value.message
    with pytest.raises(AmbiguousWriteError) as ambiguous:
        client.request("POST", f"/keys/{SECRET}", body={})
    assert SECRET not in str(ambiguous.value)


def test_the_session_headers_go_with_every_request(server: Server) -> None:
    client = api(server, [], headers={"Authorization": f"Bearer {SECRET}"})
    client.request("GET", "/zones")
    client.request("POST", "/zones", body={"a": 1})
    first, second = server.script.seen
    assert first.headers["Authorization"] == second.headers["Authorization"] == f"Bearer {SECRET}"
    assert first.headers["User-Agent"] == "fleetdns" and first.body == b""
    assert second.headers["Content-Type"] == "application/json" and json.loads(second.body) == {"a": 1}


def test_a_provider_may_name_its_own_user_agent(server: Server) -> None:
    api(server, [], headers={"User-Agent": "fleetdns/9.9"}).request("GET", "/zones")
    assert server.script.seen[0].headers["User-Agent"] == "fleetdns/9.9"


def test_the_ca_bundle_is_resolved_against_the_inventory(tmp_path: Path) -> None:
    assert resolve_ca_bundle(str(tmp_path), None, "cf") is True
    (tmp_path / "ca.pem").write_text("not read here")
    assert resolve_ca_bundle(str(tmp_path), "ca.pem", "cf") == str(tmp_path / "ca.pem")
    with pytest.raises(ProviderError, match=r"provider 'cf': ca_bundle .*missing\.pem does not exist"):
        resolve_ca_bundle(str(tmp_path), "missing.pem", "cf")
    with pytest.raises(ProviderError, match=r"^duckdns provider 'home': ca_bundle .*missing\.pem does not exist"):
        resolve_ca_bundle(str(tmp_path), "missing.pem", "home", who="duckdns provider 'home'")


class _Headers:
    def __init__(self, value: str | None) -> None:
        self.headers = {} if value is None else {"retry-after": value}


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after(_Headers("12")) == 12.0 and retry_after(_Headers("-3")) == 0.0
    assert retry_after(_Headers(None)) is None and retry_after(_Headers("later")) is None
    past = formatdate(time.time() - 60, usegmt=True)
    assert retry_after(_Headers(past)) == 0.0
