"""Deadline: the socket timeout of each step never reaches past the operation's overall limit."""

from __future__ import annotations

import time

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.deadline import Deadline, DeadlineExceeded, check_deadline


def test_a_far_deadline_leaves_the_per_step_timeout_as_it_is() -> None:
    assert Deadline(3600).wait(10) == 10


def test_a_near_deadline_shortens_the_next_wait() -> None:
    wait = Deadline(0.5).wait(10)
    assert 0 < wait <= 0.5


def test_a_passed_deadline_allows_no_further_wait() -> None:
    deadline = Deadline(0.01)
    time.sleep(0.02)
    assert deadline.expired
    with pytest.raises(DeadlineExceeded):
        deadline.wait(10)


@pytest.mark.parametrize(("value", "valid"), [(1, True), (0.5, True), (86400, True), (0, False), (-3, False),
                                              (86401, False), (True, False), ("60", False), (None, False)])  # fmt: skip
def test_check_deadline(value: object, valid: bool) -> None:
    assert (check_deadline(value) is None) is valid


def test_extend_moves_the_end_later() -> None:
    deadline = Deadline(0.05)
    deadline.extend(60)
    assert not deadline.expired and 59 < deadline.remaining() <= 60.05
