"""The runner of the CI examples reads `if:` and `rules:` as the platforms do, and refuses what it
does not understand instead of guessing (so a test of the examples cannot pass by accident)."""

from __future__ import annotations

from pathlib import Path

import pytest

from integration.ci_runner import GitHubRunner, github_expression, github_substitute, gitlab_rule

CONTEXT = {"github.event_name": "push", "github.event.pull_request.merged": True, "secrets.TOKEN": "t0k"}


@pytest.mark.parametrize(
    ("expression", "status", "value"),
    [
        ("github.event_name == 'push'", "success", True),
        ("github.event_name != 'push'", "success", False),
        ("github.event_name == 'workflow_dispatch' || github.event.pull_request.merged == true", "success", True),
        ("github.event_name == 'push' && !github.event.pull_request.merged", "success", False),
        ("!cancelled()", "failure", True),
        ("success()", "failure", False),
        ("failure()", "failure", True),
        ("always()", "failure", True),
        ("'it''s' == 'it''s'", "success", True),
    ],
)
def test_github_expressions(expression: str, status: str, value: bool) -> None:
    assert github_expression(expression, CONTEXT, status) is value


def test_github_expressions_refuse_what_the_test_does_not_define() -> None:
    with pytest.raises(AssertionError, match=r"gives no value for github\.ref"):
        github_expression("github.ref == 'refs/heads/main'", CONTEXT, "success")
    with pytest.raises(AssertionError, match="unknown function"):
        github_expression("contains(github.event_name, 'p')", CONTEXT, "success")


def test_github_substitution_fills_env_values() -> None:
    assert github_substitute("Bearer ${{ secrets.TOKEN }}", CONTEXT) == "Bearer t0k"


@pytest.mark.parametrize(
    ("rule", "value"),
    [
        ('$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', True),
        ('$CI_PIPELINE_SOURCE == "merge_request_event"', False),
        ('$CI_PIPELINE_SOURCE == "schedule" || $CI_COMMIT_BRANCH == "main"', True),
        ("$CI_MERGE_REQUEST_IID != $CI_COMMIT_BRANCH", True),
    ],
)
def test_gitlab_rules(rule: str, value: bool) -> None:
    env = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}
    assert gitlab_rule(rule, env) is value


def test_an_unknown_action_fails_the_run(tmp_path: Path) -> None:
    workflow = tmp_path / "w.yml"
    workflow.write_text(
        "on: push\ndefaults: {run: {shell: bash}}\njobs:\n  j:\n    steps:\n      - uses: some/action@v1\n"
    )
    (tmp_path / "repo").mkdir()
    (tmp_path / "work").mkdir()
    runner = GitHubRunner(workflow, tmp_path / "repo", tmp_path / "work", {}, {}, lambda name, files: None)
    with pytest.raises(AssertionError, match=r"does not know the action some/action@v1"):
        runner.run()


def test_a_failing_step_skips_the_rest_but_not_what_runs_always(tmp_path: Path) -> None:
    workflow = tmp_path / "w.yml"
    workflow.write_text(
        "on: push\ndefaults: {run: {shell: bash}}\njobs:\n  j:\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - {name: a, run: 'false || true; echo A'}\n"
        "      - {name: b, run: 'false | true'}\n"  # pipefail: the pipeline fails
        "      - {name: c, run: 'true'}\n"
        "      - {name: d, run: 'echo D'}\n"
        "      - {name: e, if: '${{ always() }}', run: 'echo \"$GREETING\"', env: {GREETING: hi}}\n"
    )
    (tmp_path / "repo").mkdir()
    (tmp_path / "work").mkdir()
    [job] = GitHubRunner(workflow, tmp_path / "repo", tmp_path / "work", {}, {}, lambda name, files: None).run()
    assert [(s.name, s.code) for s in job.steps][1:] == [("a", 0), ("b", 1), ("c", None), ("d", None), ("e", 0)]
    assert job.step("e").stdout == "hi\n" and not job.ok


def test_a_step_condition_without_a_status_function_also_needs_success(tmp_path: Path) -> None:
    workflow = tmp_path / "w.yml"
    workflow.write_text(
        "on: push\ndefaults: {run: {shell: bash}}\njobs:\n  j:\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - {name: a, if: \"github.event_name == 'push'\", run: 'exit 3'}\n"
        "      - {name: b, if: \"github.event_name == 'push'\", run: 'true'}\n"
    )
    (tmp_path / "repo").mkdir()
    (tmp_path / "work").mkdir()
    [job] = GitHubRunner(workflow, tmp_path / "repo", tmp_path / "work", CONTEXT, {}, lambda name, files: None).run()
    assert [(s.name, s.code) for s in job.steps][1:] == [("a", 3), ("b", None)]
