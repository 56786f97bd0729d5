"""The forge emulator refuses what GitHub and GitLab refuse on the calls the CI examples make: a
wrong token, an unknown pull/merge request, a body that is missing, wrongly encoded or too long; and
answers the artifact calls as GitHub does (newest first, a redirect to a download that needs no token)."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

try:
    from emulators.forge import GITHUB_COMMENT_LIMIT, GITLAB_NOTE_LIMIT, ForgeServer
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.emulators.forge import (
        GITHUB_COMMENT_LIMIT,
        GITLAB_NOTE_LIMIT,
        ForgeServer,
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def call(url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


@pytest.fixture
def server() -> Iterator[ForgeServer]:
    with ForgeServer() as running:
        running.forge.open_pull(7)
        running.forge.merge_requests.add(4)
        yield running


def github(server: ForgeServer, path: str, body: object = None, token: str | None = None) -> tuple[int, object]:
    headers = {"Authorization": f"Bearer {token or server.forge.github_token}"}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, raw, _headers = call(f"{server.github_api_url}/repos/{server.forge.github_repo}/{path}", headers, data)
    return status, json.loads(raw)


def test_github_comment_needs_the_token_a_known_pull_request_and_a_body_within_the_limit(server: ForgeServer) -> None:
    assert github(server, "issues/7/comments", {"body": "x"}, token="wrong") == (
        401,
        {"message": "Bad credentials", "status": "401"},
    )
    assert github(server, "issues/8/comments", {"body": "x"})[0] == 404
    assert github(server, "issues/7/comments", b"body=x")[0] == 400
    assert github(server, "issues/7/comments", {"text": "x"})[0] == 422
    assert github(server, "issues/7/comments", {"body": "x" * (GITHUB_COMMENT_LIMIT + 1)})[0] == 422
    assert server.forge.comments == []
    status, answer = github(server, "issues/7/comments", {"body": "x" * GITHUB_COMMENT_LIMIT})
    assert status == 201 and isinstance(answer, dict) and answer["id"] == 1
    assert [(c.number, len(c.body)) for c in server.forge.comments] == [(7, GITHUB_COMMENT_LIMIT)]


def test_github_other_repositories_and_paths_are_not_found(server: ForgeServer) -> None:
    headers = {"Authorization": f"Bearer {server.forge.github_token}"}
    assert call(f"{server.github_api_url}/repos/other/repo/issues/7/comments", headers, b"{}")[0] == 404
    assert github(server, "pulls/7")[0] == 404


def test_github_pull_requests_of_a_commit(server: ForgeServer) -> None:
    assert github(server, "commits/abc123/pulls") == (200, [])
    server.forge.merge_pull(7, "abc123")
    status, pulls = github(server, "commits/abc123/pulls")
    assert status == 200 and isinstance(pulls, list)
    assert [(p["number"], p["merge_commit_sha"], p["merged_at"] is not None) for p in pulls] == [(7, "abc123", True)]


def test_github_artifacts_newest_first_and_downloaded_through_a_redirect(server: ForgeServer) -> None:
    server.forge.add_artifact("fleetdns-plan-7", {"plan.json": b"old"}, "s1")
    server.forge.add_artifact("other", {"x": b""}, "s2")
    server.forge.add_artifact("fleetdns-plan-7", {"plan.json": b"new"}, "s3")
    status, listing = github(server, "actions/artifacts?name=fleetdns-plan-7&per_page=20")
    assert status == 200 and isinstance(listing, dict)
    assert listing["total_count"] == 2
    assert [(a["id"], a["workflow_run"]["head_sha"]) for a in listing["artifacts"]] == [(3, "s3"), (1, "s1")]
    url = listing["artifacts"][0]["archive_download_url"]
    assert call(url)[0] == 401  # the API URL needs the token
    status, _body, headers = call(url, {"Authorization": f"Bearer {server.forge.github_token}"})
    assert status == 302
    status, blob, _headers = call(headers["Location"])  # the download URL itself needs none
    assert status == 200
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        assert archive.read("plan.json") == b"new"
    server.forge.artifacts[2].expired = True
    assert call(url, {"Authorization": f"Bearer {server.forge.github_token}"})[0] == 410


def gitlab(server: ForgeServer, iid: int, data: bytes, token: str | None = None, form: bool = True) -> int:
    headers = {"PRIVATE-TOKEN": token or server.forge.gitlab_token}
    headers["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
    url = f"{server.gitlab_api_url}/projects/{server.forge.gitlab_project}/merge_requests/{iid}/notes"
    return call(url, headers, data)[0]


def test_gitlab_note_needs_the_token_a_known_merge_request_and_a_form_body(server: ForgeServer) -> None:
    body = urlencode({"body": "### plan"}).encode()
    assert gitlab(server, 4, body, token="wrong") == 401
    assert gitlab(server, 5, body) == 404
    assert gitlab(server, 4, json.dumps({"body": "x"}).encode(), form=False) == 400
    assert gitlab(server, 4, b"note=x") == 400
    assert gitlab(server, 4, urlencode({"body": "x" * (GITLAB_NOTE_LIMIT + 1)}).encode()) == 400
    assert server.forge.comments == []
    assert gitlab(server, 4, body) == 201
    assert [(c.forge, c.number, c.body) for c in server.forge.comments] == [("gitlab", 4, "### plan")]
    other = f"{server.gitlab_api_url}/projects/43/merge_requests/4/notes"
    assert call(other, {"PRIVATE-TOKEN": server.forge.gitlab_token}, body)[0] == 404
