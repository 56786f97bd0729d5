"""The CI examples in docs/ci/ work: every shell line they hold runs here as the platform would run it
(tests/integration/ci_runner.py), against an inventory whose zones are zone files in a directory
outside the checkout (the "DNS" that outlives each job), with the GitHub and GitLab APIs the
examples call emulated on 127.0.0.1 (tests/emulators/forge.py). For the drift check's `fleetdns
status`, a real BIND serves that zone file and is the zone's `name_servers`, and the device's
address is set by the real `fleetdns agent`.

A pull/merge request gets its plan as a Markdown comment; the merge applies the plan the pull
request saved (GitHub) or the plan of the job before (GitLab), and nothing when that plan no longer
holds; the scheduled drift check passes only while the DNS matches the inventory (else the plan
exits 2) and every name is healthy (else `status` exits 3: a device without an address, a record
edited behind fleetdns's back, a server that has not loaded the zone file).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.query
import dns.zone
import pytest
import yaml
from emulators.forge import GITHUB_COMMENT_LIMIT, ForgeServer
from lab.bind import BindLab

from integration.ci_runner import GitHubRunner, GitLabRunner, JobResult

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "ci"
PLAN_SECRET = "ci-example-plan-secret-4f1d7a"
ZONE = "example.test"
FLEETDNS = str(Path(sys.executable).parent / "fleetdns")
BASE = [{"name": "www", "type": "A", "value": "192.0.2.10"}]


class Repo:
    """The inventory repository (what a checkout gives a job) and the zone-file DNS beside it;
    `name_servers`: the zone's setting of that name, the servers `fleetdns status` asks."""

    def __init__(self, root: Path, dns: Path | None = None, name_servers: list[str] | None = None) -> None:
        self.root = root / "repo"
        self.dns = dns or root / "dns"
        self.name_servers = name_servers
        self.root.mkdir()
        self.dns.mkdir(exist_ok=True)

    def write(self, records: list[dict[str, Any]], devices: int = 1, broken: bool = False) -> None:
        hosts = {f"gw{i:05d}": {"fleetdns_names": [f"gw{i:05d}.{ZONE}"]} for i in range(devices)}
        data = {
            "all": {
                "vars": {
                    "fleetdns_owner": "fleet-ci",
                    "fleetdns_providers": {"dns": {"type": "zonefile", "directory": str(self.dns)}},
                    "fleetdns_zones": {ZONE: {"provider": "dns", "records": records}},
                },
                "children": {"fleetdns_clients": {"hosts": hosts}},
            }
        }
        if self.name_servers is not None:
            data["all"]["vars"]["fleetdns_zones"][ZONE]["name_servers"] = self.name_servers
        text = yaml.safe_dump(data, sort_keys=False)
        if broken:
            text = text.replace("value: 192.0.2.10", "value: 192.0.2.300")
        (self.root / "hosts.yml").write_text(text)

    def zone(self) -> str:
        path = self.dns / f"{ZONE}.zone"
        return path.read_text() if path.exists() else ""

    def has(self, name: str, value: str) -> bool:
        return re.search(rf"^{re.escape(name)}\s+\d+\s+IN\s+A\s+{re.escape(value)}$", self.zone(), re.M) is not None

    def edit_behind_fleetdns(self, old: str, new: str) -> None:
        """A hand edit of the zone file (what the drift check is there to find)."""
        path = self.dns / f"{ZONE}.zone"
        text = path.read_text()
        assert old in text, text
        path.write_text(text.replace(old, new))

    def agent_sets(self, host: str, address: str, work: Path) -> None:
        """What the agent of device `host` does: the real `fleetdns agent --once`, detecting
        `address`, writing the zone file (the name must be registered by an apply first)."""
        config = {
            "owner": "fleet-ci",
            "allow_non_global": True,  # 192.0.2.0/24 is a documentation range
            "names": [{"name": f"{host}.{ZONE}", "providers": ["dns"]}],
            "providers": {"dns": {"type": "zonefile", "directory": str(self.dns), "zone": ZONE}},
            "detect": {"ipv4": {"static": address}, "ipv6": False},
        }
        path = work / f"agent-{host}.json"
        path.write_text(json.dumps(config))
        path.chmod(0o600)
        proc = subprocess.run(
            [FLEETDNS, "agent", "--config", str(path), "--once"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert self.has(host, address), self.zone()


class NameServer:
    """The name server of the zone-file DNS: a real BIND serving the file the zonefile provider
    writes as a static primary zone, as on a server whose zone files fleetdns maintains. Like such a
    server's reload hook (`rndc reload <zone>` after the file changed), `load()` makes it load the
    file as it is now; until then it answers what it loaded last."""

    def __init__(self, lab: BindLab) -> None:
        self.lab = lab
        # inside the lab's directory, which named can read (it runs as user bind when started as root)
        self.directory = Path(lab.directory) / "dns"
        self.directory.mkdir()
        self.address = f"{lab.host}:{lab.port}"
        self._serving = False

    def load(self) -> None:
        path = self.directory / f"{ZONE}.zone"
        if self._serving:
            self.lab.rndc("reload", f"{ZONE}.")
        else:
            clause = f'{{ type primary; file "{path}"; allow-transfer {{ key {self.lab.keys["admin"].name}; }}; }};'
            self.lab.rndc("addzone", f"{ZONE}.", clause)
            self._serving = True
        wanted = dns.zone.from_file(str(path), origin=f"{ZONE}.", relativize=False)
        deadline = time.monotonic() + 10
        while True:
            xfr = dns.query.xfr(
                self.lab.host, f"{ZONE}.", port=self.lab.port, keyring=self.lab.keyring(), timeout=5, relativize=False
            )
            served = dns.zone.from_xfr(xfr, relativize=False)
            if served == wanted:
                return
            assert time.monotonic() < deadline, f"named did not load {path}; its log:\n{self.lab.log_text()[-2000:]}"
            time.sleep(0.05)


@pytest.fixture
def forge() -> Any:
    with ForgeServer() as server:
        yield server


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path)


@pytest.fixture
def name_server() -> Iterator[NameServer]:
    with BindLab(zone="lab.test.") as lab:  # its own zone is not the inventory's
        yield NameServer(lab)


@pytest.fixture
def served(tmp_path: Path, name_server: NameServer) -> Repo:
    """An inventory whose zone file `name_server` serves, and whose zone names it in name_servers."""
    return Repo(tmp_path, name_server.directory, [name_server.address])


def _no_traceback_nor_secret(results: list[JobResult]) -> None:
    for result in results:
        for step in result.steps:
            assert "Traceback" not in step.stdout + step.stderr, step
            assert PLAN_SECRET not in step.stdout + step.stderr


# ---------------------------------------------------------------- GitHub Actions


def github(forge: Any, repo: Repo, tmp_path: Path, workflow: str, event: str, sha: str, pr: int | None = None):
    context = {
        "github.event_name": event,
        "github.token": forge.forge.github_token,
        "github.event.pull_request.number": pr,
        "secrets.FLEETDNS_PLAN_SECRET": PLAN_SECRET,
        "secrets.FLEETDNS_LAB_TSIG": "",
    }
    env = {
        "GITHUB_API_URL": forge.github_api_url,
        "GITHUB_REPOSITORY": forge.forge.github_repo,
        "GITHUB_SHA": sha,
        "GITHUB_EVENT_NAME": event,
    }
    work = tmp_path / "runs"
    work.mkdir(exist_ok=True)

    def upload(name: str, files: dict[str, bytes]) -> None:
        forge.forge.add_artifact(name, files, sha)

    runner = GitHubRunner(EXAMPLES / "github" / workflow, repo.root, work, context, env, upload)
    results = runner.run()
    _no_traceback_nor_secret(results)
    return results


def test_github_pull_request_plan_is_a_comment_and_the_merge_applies_it(forge: Any, repo: Repo, tmp_path: Path) -> None:
    repo.write(BASE)
    forge.forge.open_pull(7)
    # the DNS before the pull request: the base inventory applied
    [base] = github(forge, repo, tmp_path, "fleetdns-apply.yml", "workflow_dispatch", "base")
    assert base.ok, base.output
    assert repo.has("www", "192.0.2.10")

    repo.write(
        [{"name": "www", "type": "A", "value": "192.0.2.11"}, {"name": "api", "type": "A", "value": "192.0.2.80"}]
    )
    [plan] = github(forge, repo, tmp_path, "fleetdns-plan.yml", "pull_request", "pr7-merge", 7)
    assert plan.ok, plan.output
    [comment] = forge.forge.comments
    assert (comment.forge, comment.number) == ("github", 7)
    assert comment.body.startswith("### fleetdns plan: 1 to create, 1 to update\n")
    assert "| example.test. | dns | 1 | 1 | 0 |" in comment.body
    assert "+ create   api A (ttl 3600)\n+     192.0.2.80\n" in comment.body
    assert "<details>" in comment.body and "```diff" in comment.body
    assert plan.summary == comment.body  # the job summary shows the same plan
    [artifact] = forge.forge.artifacts
    assert artifact.name == "fleetdns-plan-7" and set(artifact.files) == {"plan.json", "plan.md"}
    assert PLAN_SECRET.encode() not in artifact.files["plan.json"]
    assert not repo.has("api", "192.0.2.80")  # a plan changes nothing

    forge.forge.merge_pull(7, "merge7")
    [apply] = github(forge, repo, tmp_path, "fleetdns-apply.yml", "push", "merge7")
    assert apply.ok, apply.output
    assert "the plan made now is the one saved in plan.json" in apply.output
    assert "applying the plan saved by pull request #7" in apply.output
    assert repo.has("api", "192.0.2.80") and repo.has("www", "192.0.2.11")


def test_github_merge_refuses_a_plan_that_no_longer_holds(forge: Any, repo: Repo, tmp_path: Path) -> None:
    repo.write(BASE)
    github(forge, repo, tmp_path, "fleetdns-apply.yml", "workflow_dispatch", "base")
    mail = {"name": "mail", "type": "A", "value": "192.0.2.25"}
    ftp = {"name": "ftp", "type": "A", "value": "192.0.2.21"}
    for number, records in ((8, [*BASE, mail]), (9, [*BASE, ftp])):
        forge.forge.open_pull(number)
        repo.write(records)
        [plan] = github(forge, repo, tmp_path, "fleetdns-plan.yml", "pull_request", f"pr{number}", number)
        assert plan.ok, plan.output
    forge.forge.merge_pull(9, "merge9")
    [apply] = github(forge, repo, tmp_path, "fleetdns-apply.yml", "push", "merge9")
    assert apply.ok and repo.has("ftp", "192.0.2.21"), apply.output

    # pull request 8 is merged on top: main now asks for ftp and mail, its plan only knew mail
    forge.forge.merge_pull(8, "merge8")
    repo.write([*BASE, ftp, mail])
    before = repo.zone()
    [apply] = github(forge, repo, tmp_path, "fleetdns-apply.yml", "push", "merge8")
    assert not apply.ok
    assert apply.step("Apply").code == 1
    assert "error:" in apply.step("Apply").stderr
    assert repo.zone() == before  # nothing applied
    # run by hand, the workflow plans main afresh and applies it
    [manual] = github(forge, repo, tmp_path, "fleetdns-apply.yml", "workflow_dispatch", "merge8")
    assert manual.ok, manual.output
    assert repo.has("mail", "192.0.2.25")


def test_github_merge_refuses_an_artifact_edited_after_the_plan(forge: Any, repo: Repo, tmp_path: Path) -> None:
    repo.write(BASE)
    forge.forge.open_pull(6)
    [plan] = github(forge, repo, tmp_path, "fleetdns-plan.yml", "pull_request", "pr6", 6)
    assert plan.ok, plan.output
    [artifact] = forge.forge.artifacts
    artifact.files["plan.json"] = artifact.files["plan.json"].replace(b"192.0.2.10", b"192.0.2.66")
    forge.forge.merge_pull(6, "merge6")
    [apply] = github(forge, repo, tmp_path, "fleetdns-apply.yml", "push", "merge6")
    step = apply.step("Apply")
    assert step.code == 1
    assert "signature" in step.stderr
    assert repo.zone() == ""


def test_github_push_without_a_pull_request_applies_nothing(forge: Any, repo: Repo, tmp_path: Path) -> None:
    repo.write(BASE)
    [apply] = github(forge, repo, tmp_path, "fleetdns-apply.yml", "push", "direct")
    fetch = apply.step("Fetch the plan of the merged pull request")
    assert fetch.code == 1
    assert "::error::direct was not merged from a pull request" in fetch.stdout
    assert apply.step("Apply").code is None  # skipped
    assert repo.zone() == ""


def test_github_invalid_inventory_fails_the_pull_request_at_its_line(forge: Any, repo: Repo, tmp_path: Path) -> None:
    forge.forge.open_pull(3)
    repo.write(BASE, broken=True)
    [plan] = github(forge, repo, tmp_path, "fleetdns-plan.yml", "pull_request", "pr3", 3)
    validate = plan.step("Validate the inventory")
    assert validate.code == 1
    assert re.search(r"^error: hosts\.yml:\d+:\d+: .*'192\.0\.2\.300' is not an IPv4 address", validate.stderr, re.M)
    assert all(step.code is None for step in plan.steps[plan.steps.index(validate) + 1 :])
    assert forge.forge.comments == [] and forge.forge.artifacts == []


def test_github_a_plan_too_long_for_a_comment_is_posted_as_its_summary(forge: Any, repo: Repo, tmp_path: Path) -> None:
    forge.forge.open_pull(5)
    repo.write(BASE, devices=2000)
    [plan] = github(forge, repo, tmp_path, "fleetdns-plan.yml", "pull_request", "pr5", 5)
    assert plan.ok, plan.output
    [comment] = forge.forge.comments
    assert len(comment.body) <= GITHUB_COMMENT_LIMIT
    assert comment.body.startswith("### fleetdns plan: 1 to create, 4000 to register\n")
    assert "<details>" not in comment.body
    assert "all of it is in plan.md of the artifact fleetdns-plan-5" in comment.body
    assert len(forge.forge.artifacts[0].files["plan.md"]) > GITHUB_COMMENT_LIMIT


def _row(output: str, name: str, rtype: str = "A") -> str:
    """The line of `fleetdns status`'s table about `name`; fails when there is none."""
    match = re.search(rf"^{re.escape(name)}\.{ZONE}\. +{rtype} .*$", output, re.M)
    assert match, output
    return match[0]


def test_github_drift_check_passes_only_while_every_name_is_healthy(
    forge: Any, served: Repo, name_server: NameServer, tmp_path: Path
) -> None:
    repo = served
    repo.write(BASE)
    [apply] = github(forge, repo, tmp_path, "fleetdns-apply.yml", "workflow_dispatch", "base")
    assert apply.ok, apply.output
    name_server.load()

    # the DNS matches the inventory, but the device gw00000's agent has not set its address yet
    [drift] = github(forge, repo, tmp_path, "fleetdns-drift.yml", "schedule", "main")
    compare, check = drift.step("Compare the DNS with the inventory"), drift.step("Check every name")
    assert compare.code == 0, drift.output
    assert "No changes. The DNS matches the inventory." in compare.stdout
    assert check.code == 3 and not drift.ok, drift.output
    assert _row(check.stdout, "gw00000").endswith("missing (no address yet: the agent of gw00000 has not set one)")
    assert _row(check.stdout, "www").endswith("  ok")
    assert "2 name(s) in " in check.stderr and "1 ok, 1 missing" in check.stderr

    repo.agent_sets("gw00000", "192.0.2.50", tmp_path)
    name_server.load()
    [drift] = github(forge, repo, tmp_path, "fleetdns-drift.yml", "schedule", "main")
    check = drift.step("Check every name")
    assert drift.ok, drift.output
    assert check.code == 0
    assert f"dns=192.0.2.50  {name_server.address}=same" in _row(check.stdout, "gw00000")
    assert f"dns=192.0.2.10  {name_server.address}=same" in _row(check.stdout, "www")
    assert "2 ok" in check.stderr

    repo.edit_behind_fleetdns("192.0.2.10", "192.0.2.66")
    name_server.load()
    [drift] = github(forge, repo, tmp_path, "fleetdns-drift.yml", "schedule", "main")
    compare, check = drift.step("Compare the DNS with the inventory"), drift.step("Check every name")
    assert compare.code == 2
    assert "::error title=DNS drift::" in compare.stdout
    assert re.search(r"~ update\s+www A", compare.stdout)
    assert check.code == 3 and not drift.ok  # it ran although the step before failed
    assert _row(check.stdout, "www").endswith("mismatch (the inventory declares 192.0.2.10)")
    assert _row(check.stdout, "gw00000").endswith("  ok")


def test_github_drift_check_fails_while_the_name_server_has_not_loaded_the_apply(
    forge: Any, served: Repo, name_server: NameServer, tmp_path: Path
) -> None:
    repo = served
    repo.write(BASE, devices=0)
    github(forge, repo, tmp_path, "fleetdns-apply.yml", "workflow_dispatch", "base")
    name_server.load()
    repo.write([{"name": "www", "type": "A", "value": "192.0.2.11"}], devices=0)
    [apply] = github(forge, repo, tmp_path, "fleetdns-apply.yml", "workflow_dispatch", "main")
    assert apply.ok and repo.has("www", "192.0.2.11"), apply.output

    # the zone file holds the change, the server still answers the file it loaded before
    [drift] = github(forge, repo, tmp_path, "fleetdns-drift.yml", "schedule", "main")
    compare, check = drift.step("Compare the DNS with the inventory"), drift.step("Check every name")
    assert compare.code == 0, drift.output
    assert check.code == 3 and not drift.ok
    assert _row(check.stdout, "www").endswith(f"stale ({name_server.address} answers 192.0.2.10)")

    name_server.load()
    [drift] = github(forge, repo, tmp_path, "fleetdns-drift.yml", "schedule", "main")
    assert drift.ok, drift.output


# ---------------------------------------------------------------- GitLab CI


def gitlab(forge: Any, repo: Repo, tmp_path: Path, source: str, branch: str, mr: int | None = None):
    env = {
        "CI_PIPELINE_SOURCE": source,
        "CI_DEFAULT_BRANCH": "main",
        "CI_API_V4_URL": forge.gitlab_api_url,
        "CI_PROJECT_ID": forge.forge.gitlab_project,
    }
    if mr is None:
        env["CI_COMMIT_BRANCH"] = branch
    else:
        env |= {"CI_MERGE_REQUEST_IID": str(mr), "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": branch}
    secrets = {"FLEETDNS_GITLAB_TOKEN": forge.forge.gitlab_token, "FLEETDNS_PLAN_SECRET": PLAN_SECRET}
    work = tmp_path / "pipelines"
    work.mkdir(exist_ok=True)
    runner = GitLabRunner(EXAMPLES / "gitlab" / "fleetdns.gitlab-ci.yml", repo.root, work, env, secrets)
    results = runner.run()
    _no_traceback_nor_secret(results)
    return {r.name: r for r in results}


def test_gitlab_merge_request_plan_is_a_note_and_main_applies_its_plan(forge: Any, repo: Repo, tmp_path: Path) -> None:
    repo.write(BASE)
    forge.forge.merge_requests.add(4)
    jobs = gitlab(forge, repo, tmp_path, "merge_request_event", "add-api", 4)
    assert list(jobs) == ["fleetdns:validate", "fleetdns:plan"]
    assert all(job.ok for job in jobs.values()), [j.output for j in jobs.values()]
    [note] = forge.forge.comments
    assert (note.forge, note.number) == ("gitlab", 4)
    assert note.body.startswith("### fleetdns plan: 1 to create, 2 to register\n")
    assert "www A" in note.body

    jobs = gitlab(forge, repo, tmp_path, "push", "main")
    assert list(jobs) == ["fleetdns:validate", "fleetdns:plan", "fleetdns:apply"]
    assert all(job.ok for job in jobs.values()), [j.output for j in jobs.values()]
    assert "the plan made now is the one saved in plan.json" in jobs["fleetdns:apply"].output
    assert repo.has("www", "192.0.2.10")
    assert len(forge.forge.comments) == 1  # no merge request: no note

    jobs = gitlab(forge, repo, tmp_path, "push", "feature")
    assert jobs == {}


def test_gitlab_scheduled_drift_check(forge: Any, served: Repo, name_server: NameServer, tmp_path: Path) -> None:
    repo = served
    repo.write(BASE)
    jobs = gitlab(forge, repo, tmp_path, "push", "main")
    assert all(job.ok for job in jobs.values()), [j.output for j in jobs.values()]
    name_server.load()

    jobs = gitlab(forge, repo, tmp_path, "schedule", "main")
    assert list(jobs) == ["fleetdns:drift", "fleetdns:status"]
    assert jobs["fleetdns:drift"].ok, jobs["fleetdns:drift"].output
    status = jobs["fleetdns:status"].step("script")
    assert status.code == 3, jobs["fleetdns:status"].output  # the device's agent has not set an address
    assert _row(status.stdout, "gw00000").endswith("missing (no address yet: the agent of gw00000 has not set one)")

    repo.agent_sets("gw00000", "192.0.2.50", tmp_path)
    name_server.load()
    jobs = gitlab(forge, repo, tmp_path, "schedule", "main")
    assert all(job.ok for job in jobs.values()), [j.output for j in jobs.values()]
    status = jobs["fleetdns:status"].step("script")
    assert _row(status.stdout, "www").endswith("  ok") and _row(status.stdout, "gw00000").endswith("  ok")

    repo.edit_behind_fleetdns("192.0.2.10", "192.0.2.66")
    name_server.load()
    jobs = gitlab(forge, repo, tmp_path, "schedule", "main")
    drift = jobs["fleetdns:drift"].step("script")
    assert drift.code == 2
    assert "DNS drift: the DNS no longer matches the inventory on main" in drift.stdout
    status = jobs["fleetdns:status"].step("script")
    assert status.code == 3 and not jobs["fleetdns:status"].ok
    assert _row(status.stdout, "www").endswith("mismatch (the inventory declares 192.0.2.10)")
