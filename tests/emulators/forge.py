"""The parts of the GitHub and GitLab REST APIs the CI examples in docs/ci/ call, on 127.0.0.1.

GitHub (under /github, what a runner's $GITHUB_API_URL points at):

- POST /repos/{owner}/{repo}/issues/{number}/comments   JSON {"body": ...}: a comment on a pull request
- GET  /repos/{owner}/{repo}/commits/{sha}/pulls         the pull requests a commit belongs to
- GET  /repos/{owner}/{repo}/actions/artifacts?name=N    artifacts, newest first
- GET  /repos/{owner}/{repo}/actions/artifacts/{id}/zip  302 to a download URL that needs no token

GitLab (under /gitlab/api/v4, what $CI_API_V4_URL points at):

- POST /projects/{id}/merge_requests/{iid}/notes         form field `body`: a comment on a merge request

As strict as the services on what the examples depend on: the token (GitHub: `Authorization:
Bearer`, 401 "Bad credentials"; GitLab: `PRIVATE-TOKEN`, 401 "401 Unauthorized"), the body's
encoding and its limits (GitHub: 65,536 characters, 422; GitLab: 1,000,000, 400), unknown
repositories, pull requests and paths (404). The test drives the rest (which commits came from which
pull request, what artifacts exist) through the Python API.
"""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

GITHUB_COMMENT_LIMIT = 65_536
GITLAB_NOTE_LIMIT = 1_000_000


@dataclass
class Comment:
    forge: str  # "github" or "gitlab"
    project: str  # owner/repo or the GitLab project id
    number: int  # pull request number or merge request iid
    body: str


@dataclass
class Artifact:
    id: int
    name: str
    files: dict[str, bytes]
    head_sha: str
    expired: bool = False


@dataclass
class Forge:
    """The state of both services; the HTTP handler reads and changes it under `lock`."""

    github_repo: str = "example/dns"
    github_token: str = "ghs_forge_emulator_token"
    gitlab_project: str = "42"
    gitlab_token: str = "glpat-forge-emulator"
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)  # number -> {merged_at, merge_commit_sha}
    commits: dict[str, list[int]] = field(default_factory=dict)  # sha -> pull request numbers
    merge_requests: set[int] = field(default_factory=set)
    artifacts: list[Artifact] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # "METHOD /path" of every request
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open_pull(self, number: int) -> None:
        with self.lock:
            self.pulls[number] = {"number": number, "state": "open", "merged_at": None, "merge_commit_sha": None}

    def merge_pull(self, number: int, sha: str) -> None:
        with self.lock:
            self.pulls[number].update(state="closed", merged_at="2026-01-01T00:00:00Z", merge_commit_sha=sha)
            self.commits.setdefault(sha, []).append(number)

    def add_artifact(self, name: str, files: dict[str, bytes], head_sha: str) -> Artifact:
        with self.lock:
            artifact = Artifact(len(self.artifacts) + 1, name, files, head_sha)
            self.artifacts.append(artifact)
            return artifact


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing ---------------------------------------------------------------------------------

    def _send(self, status: int, data: Any = None, raw: bytes | None = None, headers: dict[str, str] | None = None):
        body = raw if raw is not None else json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/zip" if raw is not None else "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _route(self, method: str) -> None:
        forge = self.server.forge
        url = urlsplit(self.path)
        with forge.lock:
            forge.requests.append(f"{method} {url.path}")
        body = self._body() if method == "POST" else b""
        if url.path.startswith("/github/"):
            self._github(method, url.path[len("/github") :], parse_qs(url.query), body)
        elif url.path.startswith("/gitlab/api/v4/"):
            self._gitlab(method, url.path[len("/gitlab/api/v4") :], body)
        elif method == "GET" and (match := re.fullmatch(r"/blobs/(\d+)", url.path)):
            self._blob(int(match[1]))
        else:
            self._send(404, {"message": "Not Found"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    # -- GitHub -----------------------------------------------------------------------------------

    def _github(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        forge = self.server.forge
        if self.headers.get("Authorization") != f"Bearer {forge.github_token}":
            self._send(401, {"message": "Bad credentials", "status": "401"})
            return
        prefix = f"/repos/{forge.github_repo}/"
        if not path.startswith(prefix):
            self._send(404, {"message": "Not Found", "status": "404"})
            return
        rest = path[len(prefix) :]
        if method == "POST" and (match := re.fullmatch(r"issues/(\d+)/comments", rest)):
            self._github_comment(int(match[1]), body)
        elif method == "GET" and (match := re.fullmatch(r"commits/([0-9A-Za-z-]+)/pulls", rest)):
            with forge.lock:
                pulls = [dict(forge.pulls[n]) for n in forge.commits.get(match[1], [])]
            self._send(200, pulls)
        elif method == "GET" and rest == "actions/artifacts":
            self._github_artifacts(query)
        elif method == "GET" and (match := re.fullmatch(r"actions/artifacts/(\d+)/zip", rest)):
            artifact = self._artifact(int(match[1]))
            if artifact is None or artifact.expired:
                self._send(404 if artifact is None else 410, {"message": "Not Found" if artifact is None else "Gone"})
                return
            host = self.headers.get("Host", "")
            self._send(302, {}, headers={"Location": f"http://{host}/blobs/{artifact.id}"})
        else:
            self._send(404, {"message": "Not Found", "status": "404"})

    def _github_comment(self, number: int, body: bytes) -> None:
        forge = self.server.forge
        if number not in forge.pulls:
            self._send(404, {"message": "Not Found", "status": "404"})
            return
        try:
            data = json.loads(body)
        except ValueError:
            self._send(400, {"message": "Problems parsing JSON", "status": "400"})
            return
        text = data.get("body") if isinstance(data, dict) else None
        if not isinstance(text, str) or not text:
            self._send(422, {"message": "Validation Failed", "errors": [{"field": "body", "code": "missing_field"}]})
            return
        if len(text) > GITHUB_COMMENT_LIMIT:
            self._send(
                422, {"message": "Validation Failed", "errors": ["Body is too long (maximum is 65536 characters)"]}
            )
            return
        with forge.lock:
            forge.comments.append(Comment("github", forge.github_repo, number, text))
            comment_id = len(forge.comments)
        self._send(201, {"id": comment_id, "body": text})

    def _github_artifacts(self, query: dict[str, list[str]]) -> None:
        forge = self.server.forge
        name = query.get("name", [None])[0]
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        with forge.lock:
            found = [a for a in reversed(forge.artifacts) if name is None or a.name == name]
        host = self.headers.get("Host", "")
        listed = [
            {
                "id": a.id,
                "name": a.name,
                "expired": a.expired,
                "archive_download_url": f"http://{host}/github/repos/{forge.github_repo}/actions/artifacts/{a.id}/zip",
                "workflow_run": {"head_sha": a.head_sha},
            }
            for a in found[:per_page]
        ]
        self._send(200, {"total_count": len(found), "artifacts": listed})

    def _artifact(self, artifact_id: int) -> Artifact | None:
        with self.server.forge.lock:
            return next((a for a in self.server.forge.artifacts if a.id == artifact_id), None)

    def _blob(self, artifact_id: int) -> None:
        artifact = self._artifact(artifact_id)
        if artifact is None:
            self._send(404, {"message": "Not Found"})
            return
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in artifact.files.items():
                archive.writestr(name, content)
        self._send(200, raw=buffer.getvalue())

    # -- GitLab -----------------------------------------------------------------------------------

    def _gitlab(self, method: str, path: str, body: bytes) -> None:
        forge = self.server.forge
        if self.headers.get("PRIVATE-TOKEN") != forge.gitlab_token:
            self._send(401, {"message": "401 Unauthorized"})
            return
        match = re.fullmatch(r"/projects/([^/]+)/merge_requests/(\d+)/notes", path)
        if method != "POST" or not match or match[1] != forge.gitlab_project:
            self._send(404, {"message": "404 Not Found"})
            return
        iid = int(match[2])
        if iid not in forge.merge_requests:
            self._send(404, {"message": "404 Not found"})
            return
        if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            self._send(400, {"error": "body is missing"})
            return
        fields = parse_qs(body.decode(), keep_blank_values=True)
        text = fields.get("body", [""])[0]
        if not text:
            self._send(400, {"error": "body is missing"})
            return
        if len(text) > GITLAB_NOTE_LIMIT:
            self._send(400, {"message": {"note": ["is too long (maximum is 1000000 characters)"]}})
            return
        with forge.lock:
            forge.comments.append(Comment("gitlab", forge.gitlab_project, iid, text))
            note_id = len(forge.comments)
        self._send(201, {"id": note_id, "body": text, "noteable_iid": iid})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, forge: Forge) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.forge = forge


class ForgeServer:
    """`with ForgeServer() as server:` serves a fresh Forge on 127.0.0.1 until the block ends."""

    def __init__(self) -> None:
        self.forge = Forge()
        self._server = _Server(self.forge)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        port = self._server.server_address[1]
        self.github_api_url = f"http://127.0.0.1:{port}/github"
        self.gitlab_api_url = f"http://127.0.0.1:{port}/gitlab/api/v4"

    def __enter__(self) -> ForgeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
