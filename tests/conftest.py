"""Shared fixtures. `bind`: a fresh real BIND primary per test (see lab/bind.py for its API);
`servers`: closes the fake servers a test starts (tests/unit/plugins/module_utils/public_ip_fakes.py);
`collector_on`: the cyclic garbage collector switched on for the test, restored after.
Also the hypothesis profile: no wall-clock deadline or slow-generation check, and the rule that a
skipped test fails the run. Ctrl-C reaches the CLIs the tests start, however the run was launched."""

from __future__ import annotations

import gc
import signal
from collections.abc import Iterator

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils import process_runner
from hypothesis import HealthCheck, settings

# Property tests check correctness, not speed: on a busy 2-core CI machine (sanity and units of two
# ansible-core versions side by side) hypothesis's wall-clock checks fail runs whose properties hold.
settings.register_profile("fleetdns", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("fleetdns")

# A run started in the background of a non-interactive shell inherits SIGINT ignored, and every CLI a
# test starts would inherit that too: the Ctrl-C tests would then wait for an exit that never comes.
# A Python handler here is reset to the default on exec, so the children see SIGINT as a terminal
# user's process does.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

try:
    from lab.bind import INSTALL_HINT, BindLab, missing_binaries
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.lab.bind import INSTALL_HINT, BindLab, missing_binaries


try:
    from fleetdns.process import run_command
except ImportError:  # under `ansible-test units`: the CLI package lies inside the collection
    from ansible_collections.fleetdns.ddns.fleetdns.process import run_command


@pytest.fixture(autouse=True)
def cli_command_runner() -> Iterator[None]:
    """Tests call the engine as the CLI does: with the CLI's command runner (named-checkzone)."""
    process_runner.command_runner = run_command
    yield
    process_runner.command_runner = None


@pytest.fixture
def bind() -> Iterator[BindLab]:
    """named on 127.0.0.1 and a free port serving example.test. with the lab keys; always stopped.

    Fails (never skips) when BIND is not installed: the suite must run against the real server.
    """
    missing = missing_binaries()
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: {INSTALL_HINT}", pytrace=False)
    lab = BindLab()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def servers() -> Iterator[list]:
    """Collects fake servers started by a test (anything with close()) and closes them all afterwards."""
    started: list = []
    yield started
    for server in started:
        server.close()


@pytest.fixture
def collector_on() -> Iterator[None]:
    """The cyclic garbage collector on while the test runs (tests of code that pauses it), then as it was."""
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skip is never a pass: a missing component must fail the run by name, not go unnoticed."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == pytest.ExitCode.OK:
        names = ", ".join(report.nodeid for report in skipped[:5])
        reporter.write_line(f"{len(skipped)} test(s) skipped ({names}): a skip fails the run", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
