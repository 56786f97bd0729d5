"""paused_gc: the cyclic collector is off inside the block and back to how it was after, even on errors."""

from __future__ import annotations

import gc

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.gcpause import paused_gc


def test_paused_inside_and_back_on_after(collector_on: None) -> None:
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_back_on_after_the_block_raises(collector_on: None) -> None:
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_pause_false_leaves_the_collector_on(collector_on: None) -> None:
    with paused_gc(pause=False):
        assert gc.isenabled()
    assert gc.isenabled()


def test_an_inner_pause_keeps_the_outer_pause(collector_on: None) -> None:
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block found it off and leaves it off
    assert gc.isenabled()
