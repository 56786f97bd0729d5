"""The CI examples in docs/ci/ work: every shell line they hold runs here as the platform would run it
(tests/integration/ci_runner.py), against an inventory whose zones are zone files in a directory
outside the checkout (the "DNS" that outlives each job), with the GitHub and GitLab APIs the
examples call emulated on 127.0.0.1 (tests/emulators/forge.py).

A pull/merge request gets its plan as a Markdown comment; the merge applies the plan the pull
request saved (GitHub) or the plan of the job before (GitLab), and nothing when that plan no longer
holds; the scheduled drift check passes while the DNS matches and fails (exit 2) once it drifted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulators.forge import GITHUB_COMMENT_LIMIT, ForgeServer

from fleetdns import commands
from integration.ci_runner import GitHubRunner, GitLabRunner, JobResult

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "ci"
PLAN_SECRET = "ci-example-plan-secret-4f1d7a"
ZONE = "example.test"
BASE = [{"name": "www", "type": "A", "value": "192.0.2.10"}]

# Commands the examples run that are not in this checkout yet; their lines are checked to be there
# and not run. Once such a command is registered, the test below fails: take it off this list.
PENDING_COMMANDS = {"status"}


class Repo:
    """The inventory repository (what a checkout gives a job) and the zone-file DNS beside it."""

    def __init__(self, root: Path) -> None:
        self.root = root / "repo"
        self.dns = root / "dns"
        self.root.mkdir()
        self.dns.mkdir()

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
        text = yaml.safe_dump(data, sort_keys=False)
        if broken:
            text = text.replace("value: 192.0.2.10", "value: 192.0.2.300")
        (self.root / "hosts.yml").write_text(text)

    def zone(self) -> str:
        path = self.dns / f"{ZONE}.zone"
        return path.read_text() if path.exists() else ""

    def has(self, name: str, value: str) -> bool:
        return re.search(rf"^{re.escape(name)}\s+\d+\s+IN\s+A\s+{re.escape(value)}$", self.zone(), re.M) is not None


@pytest.fixture
def forge() -> Any:
    with ForgeServer() as server:
        yield server


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path)


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

    runner = GitHubRunner(EXAMPLES / "github" / workflow, repo.root, work, context, env, upload, PENDING_COMMANDS)
    results = runner.run()
    _no_traceback_nor_secret(results)
    return results


def test_the_pending_commands_are_not_in_this_checkout_yet() -> None:
    """The examples' lines that run a pending command are left out above; once the command is
    registered this fails, and taking it off PENDING_COMMANDS makes those lines run."""
    registered = {module.NAME for module in commands.registry()}
    assert not PENDING_COMMANDS & registered, f"remove {PENDING_COMMANDS & registered} from PENDING_COMMANDS"
    for command in PENDING_COMMANDS:
        for example in EXAMPLES.rglob("*.yml"):
            if "drift" in example.name or "gitlab" in example.name:
                assert f"fleetdns {command}" in example.read_text(), example


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


def test_github_drift_check_fails_once_the_dns_drifted(forge: Any, repo: Repo, tmp_path: Path) -> None:
    repo.write(BASE)
    github(forge, repo, tmp_path, "fleetdns-apply.yml", "workflow_dispatch", "base")
    [drift] = github(forge, repo, tmp_path, "fleetdns-drift.yml", "schedule", "main")
    compare = drift.step("Compare the DNS with the inventory")
    assert compare.code == 0, drift.output
    assert "No changes. The DNS matches the inventory." in compare.stdout

    zone = repo.dns / f"{ZONE}.zone"
    zone.write_text(zone.read_text().replace("192.0.2.10", "192.0.2.66"))  # changed behind fleetdns's back
    [drift] = github(forge, repo, tmp_path, "fleetdns-drift.yml", "schedule", "main")
    compare = drift.step("Compare the DNS with the inventory")
    assert compare.code == 2
    assert "::error title=DNS drift::" in compare.stdout
    assert re.search(r"~ update\s+www A", compare.stdout)
    assert not drift.ok
    assert drift.step("Check every name").stdout.startswith("(pending")


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
    runner = GitLabRunner(
        EXAMPLES / "gitlab" / "fleetdns.gitlab-ci.yml", repo.root, work, env, secrets, PENDING_COMMANDS
    )
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


def test_gitlab_scheduled_drift_check(forge: Any, repo: Repo, tmp_path: Path) -> None:
    repo.write(BASE)
    gitlab(forge, repo, tmp_path, "push", "main")
    jobs = gitlab(forge, repo, tmp_path, "schedule", "main")
    assert list(jobs) == ["fleetdns:drift", "fleetdns:status"]
    assert jobs["fleetdns:drift"].ok, jobs["fleetdns:drift"].output

    zone = repo.dns / f"{ZONE}.zone"
    zone.write_text(zone.read_text().replace("192.0.2.10", "192.0.2.66"))
    jobs = gitlab(forge, repo, tmp_path, "schedule", "main")
    drift = jobs["fleetdns:drift"].step("script")
    assert drift.code == 2
    assert "DNS drift: the DNS no longer matches the inventory on main" in drift.stdout
