"""Run the CI examples of docs/ci/ the way GitHub Actions and GitLab CI would, on this machine.

Each job gets a fresh copy of the repository (the "checkout"), the environment a runner gives it
(the platform's variables, the workflow's `env:`/`variables:` with `${{ secrets.X }}` and the like
filled in from a context the test passes) and runs every shell line of the file as written, with
the shell the platform uses (`bash --noprofile --norc -eo pipefail`). Artifacts are passed between
jobs as the platforms do (GitHub: upload-artifact stores them in the forge emulator, where the
examples fetch them over its REST API; GitLab: `artifacts: paths` of the jobs a job needs).

What is not run, because it installs from a package index: the step (GitHub) or `before_script`
line (GitLab) that pip-installs fleetdns; the runner checks it pins the version of this checkout
and puts the project's venv (where this checkout is installed) first on PATH instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fleetdns.version import package_version

SHELL = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
BIN = str(Path(sys.executable).parent)
INSTALL_LINE = f'python -m pip install "fleetdns=={package_version()}"'
GITLAB_INSTALL_LINE = f'python -m pip install --quiet "fleetdns=={package_version()}"'


@dataclass
class StepResult:
    name: str
    code: int | None  # None: skipped
    stdout: str = ""
    stderr: str = ""


@dataclass
class JobResult:
    name: str
    steps: list[StepResult] = field(default_factory=list)
    workspace: Path | None = None
    summary: str = ""  # GitHub: what the job wrote to $GITHUB_STEP_SUMMARY

    @property
    def ok(self) -> bool:
        return all(s.code in (0, None) for s in self.steps)

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)

    @property
    def output(self) -> str:
        return "".join(s.stdout + s.stderr for s in self.steps)


def load(path: Path) -> dict[str, Any]:
    # GitHub's `on:` is a YAML 1.1 boolean for PyYAML; BaseLoader keeps every scalar a string.
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    assert isinstance(data, dict), path
    return data


def _shell(script: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    result = subprocess.run(
        [*SHELL, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    return result.returncode, result.stdout, result.stderr


def _base_env(home: Path) -> dict[str, str]:
    return {
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "CI": "true",
    }


# ---------------------------------------------------------------- GitHub Actions


_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<call>[A-Za-z]+)\((?P<args>[^)]*)\)|(?P<word>[A-Za-z_][\w.-]*))"
)


def github_expression(text: str, context: dict[str, Any], status: str) -> Any:
    """The value of a GitHub expression with literals, context paths, ==, !=, !, &&, || and the
    status functions; a path the test's context does not define fails the test (not an empty value)."""
    python: list[str] = []
    values: dict[str, Any] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        assert match and match.end() > position, f"expression not understood here: {text!r}"
        position = match.end()
        if match["str"]:
            python.append(repr(match["str"][1:-1].replace("''", "'")))
        elif match["op"]:
            python.append({"&&": " and ", "||": " or ", "!": " not "}.get(match["op"], match["op"]))
        elif match["call"]:
            calls = {"success": status == "success", "failure": status == "failure", "always": True}
            calls["cancelled"] = False
            assert match["call"] in calls and not match["args"].strip(), (
                f"unknown function {match['call']}() in {text!r}"
            )
            python.append(str(calls[match["call"]]))
        else:
            word = match["word"]
            if word in ("true", "false", "null"):
                python.append({"true": "True", "false": "False", "null": "None"}[word])
                continue
            assert word in context, f"the test gives no value for {word} (in {text!r})"
            key = f"v{len(values)}"
            values[key] = context[word]
            python.append(key)
    return eval("".join(python), {"__builtins__": {}}, values)


def github_substitute(text: str, context: dict[str, Any]) -> str:
    return _EXPR.sub(lambda m: str(github_expression(m[1], context, "success") or ""), text)


@dataclass
class GitHubRunner:
    """Runs one workflow file's jobs; `context` holds what expressions read (`github.event_name`,
    `secrets.X`, `github.event.pull_request.number`, ...), `env` the runner's own variables."""

    workflow: Path
    repository: Path
    work: Path
    context: dict[str, Any]
    env: dict[str, str]
    upload: Callable[[str, dict[str, bytes]], None]

    def run(self) -> list[JobResult]:
        data = load(self.workflow)
        results = []
        for name, job in data["jobs"].items():
            results.append(self._job(name, job, data))
        return results

    def _job(self, name: str, job: dict[str, Any], workflow: dict[str, Any]) -> JobResult:
        result = JobResult(name)
        condition = job.get("if")
        if condition is not None and not github_expression(_EXPR.sub(r"\1", condition), self.context, "success"):
            return result
        workspace = self.work / f"{name}-{len(list(self.work.iterdir()))}"
        home, temp = workspace / "_home", workspace / "_temp"
        workspace.mkdir(parents=True)
        result.workspace = workspace / "repo"
        home.mkdir()
        temp.mkdir()
        files = {key: temp / key.lower() for key in ("GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")}
        for file in files.values():
            file.touch()
        env = {
            **_base_env(home),
            **self.env,
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(result.workspace),
            "RUNNER_TEMP": str(temp),
            **{key: str(path) for key, path in files.items()},
        }
        for scope in (workflow, job):
            env.update({k: github_substitute(v, self.context) for k, v in (scope.get("env") or {}).items()})
        shell = ((workflow.get("defaults") or {}).get("run") or {}).get("shell")
        assert shell == "bash", f"{self.workflow}: set defaults.run.shell: bash (bash -eo pipefail)"
        status = "success"
        for step in job["steps"]:
            label = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
            condition = _EXPR.sub(r"\1", step.get("if", "success()"))
            if not re.search(r"\b(success|failure|always|cancelled)\(", condition):
                condition = f"success() && ({condition})"  # GitHub adds this to a condition without one
            if not github_expression(condition, self.context, status):
                result.steps.append(StepResult(label, None))
                continue
            step_env = {**env, **{k: github_substitute(v, self.context) for k, v in (step.get("env") or {}).items()}}
            for line in files["GITHUB_ENV"].read_text().splitlines():
                key, _equals, value = line.partition("=")
                step_env[key] = value
            outcome = self._step(step, label, result.workspace, step_env)
            result.steps.append(outcome)
            if outcome.code:
                status = "failure"
        result.summary = files["GITHUB_STEP_SUMMARY"].read_text()
        return result

    def _step(self, step: dict[str, Any], label: str, workspace: Path, env: dict[str, str]) -> StepResult:
        uses = step.get("uses")
        if uses == "actions/checkout@v4":
            shutil.copytree(self.repository, workspace)
            return StepResult(label, 0)
        if uses == "actions/setup-python@v5":
            return StepResult(label, 0)  # the venv's python is first on PATH
        if uses == "actions/upload-artifact@v4":
            with_ = step["with"]
            name = github_substitute(with_["name"], self.context)
            paths = [p.strip() for p in with_["path"].splitlines() if p.strip()]
            self.upload(name, {p: (workspace / p).read_bytes() for p in paths})
            return StepResult(label, 0)
        assert uses is None, f"{self.workflow}: the runner does not know the action {uses}"
        script = step["run"]
        assert "${{" not in script, f"{label}: pass expressions through env:, the shell reads them from there"
        if label == "Install fleetdns":
            assert script.strip() == INSTALL_LINE, script
            return StepResult(label, 0, "(not run: the venv has this checkout installed)\n")
        code, out, err = _shell(script, workspace, env)
        return StepResult(label, code, out, err)


# ---------------------------------------------------------------- GitLab CI

_RESERVED = {"stages", "variables", "default", "include", "workflow", "image", "before_script", "after_script"}
_RULE_TOKEN = re.compile(r'\s*(?:(?P<str>"[^"]*")|(?P<var>\$[A-Z_][A-Z0-9_]*)|(?P<op>==|!=|&&|\|\||\(|\)))')


def gitlab_rule(text: str, env: dict[str, str]) -> bool:
    """A `rules: if:` expression: $VARIABLES, "strings", ==, !=, &&, ||, parentheses."""
    python: list[str] = []
    position = 0
    while position < len(text.strip()):
        match = _RULE_TOKEN.match(text, position)
        assert match and match.end() > position, f"rule not understood here: {text!r}"
        position = match.end()
        if match["str"]:
            python.append(repr(match["str"][1:-1]))
        elif match["var"]:
            python.append(repr(env.get(match["var"][1:])))
        else:
            python.append({"&&": " and ", "||": " or "}.get(match["op"], match["op"]))
    return bool(eval("".join(python), {"__builtins__": {}}, {}))


@dataclass
class GitLabRunner:
    """Runs the jobs of one pipeline (the ones whose rules match `env`) stage by stage."""

    pipeline: Path
    repository: Path
    work: Path
    env: dict[str, str]
    secrets: dict[str, str]

    def run(self) -> list[JobResult]:
        data = load(self.pipeline)
        stages = data["stages"]
        jobs = {k: v for k, v in data.items() if k not in _RESERVED and not k.startswith(".")}
        chosen = {k: v for k, v in jobs.items() if any(gitlab_rule(r["if"], self.env) for r in v.get("rules", []))}
        results: dict[str, JobResult] = {}
        artifacts: dict[str, Path] = {}
        for stage in stages:
            ran = [name for name, job in chosen.items() if job.get("stage") == stage]
            for name in ran:
                results[name] = self._job(name, chosen[name], data, artifacts)
            if not all(results[name].ok for name in ran):
                break
        return list(results.values())

    def _job(self, name: str, job: dict[str, Any], data: dict[str, Any], artifacts: dict[str, Path]) -> JobResult:
        result = JobResult(name)
        root = self.work / f"{name.replace(':', '-')}-{len(list(self.work.iterdir()))}"
        home = root / "_home"
        workspace = root / "repo"
        home.mkdir(parents=True)
        shutil.copytree(self.repository, workspace)
        needs = job.get("needs")
        for source in needs if needs is not None else list(artifacts):
            for file in artifacts[source].iterdir():
                shutil.copy(file, workspace / file.name)
        env = {
            **_base_env(home),
            "GITLAB_CI": "true",
            "CI_PROJECT_DIR": str(workspace),
            "CI_JOB_NAME": name,
            **self.env,
            **data.get("variables", {}),
            **job.get("variables", {}),
            **self.secrets,
        }
        before = (data.get("default") or {}).get("before_script", [])
        assert before == [GITLAB_INSTALL_LINE], before
        result.steps.append(StepResult("before_script", 0, "(not run: the venv has this checkout installed)\n"))
        for line in job["script"]:
            assert "${{" not in line
        code, out, err = _shell("\n".join(job["script"]), workspace, env)
        result.steps.append(StepResult("script", code, out, err))
        kept = root / "artifacts"
        kept.mkdir()
        for path in (job.get("artifacts") or {}).get("paths", []):
            if (workspace / path).exists():
                shutil.copy(workspace / path, kept / path)
        artifacts[name] = kept
        result.workspace = workspace
        return result
