"""files.write_text: the file the path leads to gets the text, atomically; links, devices and pipes stay."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.files import write_text


def test_a_new_file_is_private_and_an_existing_one_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_text(str(path), "one")
    assert path.read_text() == "one" and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    write_text(str(path), "two")
    assert path.read_text() == "two" and stat.S_IMODE(path.stat().st_mode) == 0o644
    write_text(str(path), "three", mode=0o640)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_chain_of_symlinks_is_followed_and_kept(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "plan.json"
    target.write_text("old")
    (tmp_path / "middle").symlink_to("real/plan.json")  # relative, resolved from the link's directory
    (tmp_path / "first").symlink_to(tmp_path / "middle")
    write_text(str(tmp_path / "first"), "new")
    assert target.read_text() == "new"
    assert os.readlink(tmp_path / "first") == str(tmp_path / "middle")
    assert os.readlink(tmp_path / "middle") == "real/plan.json"
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["plan.json"]  # the temp file went beside it


def test_a_dangling_symlink_gets_its_target_created(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to("made.json")
    write_text(str(tmp_path / "link"), "text")
    assert (tmp_path / "made.json").read_text() == "text" and (tmp_path / "link").is_symlink()


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_text(str(fifo), "through the pipe")
    reader.join(10)
    assert received == ["through the pipe"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_link_to_an_open_descriptor_is_written_through_not_replaced(tmp_path: Path) -> None:
    """The shape of /dev/stdout: a link into /proc/self/fd (here to a file this test holds open)."""
    held = tmp_path / "held.txt"
    with held.open("w") as handle:
        link = tmp_path / "stdout"
        link.symlink_to(f"/proc/self/fd/{handle.fileno()}")
        write_text(str(link), "to the descriptor")
        assert os.readlink(link) == f"/proc/self/fd/{handle.fileno()}"
    assert held.read_text() == "to the descriptor"


def test_a_failed_write_leaves_the_old_contents_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_text(str(path), "\udcff cannot be encoded")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_without_fchmod_the_mode_is_set_by_path(tmp_path, monkeypatch) -> None:
    """Windows' Python 3.11 has no os.fchmod; the agent's state file is written there too."""
    monkeypatch.delattr(os, "fchmod")
    target = tmp_path / "state.json"
    write_text(str(target), "{}\n", mode=0o600)
    assert target.read_text(encoding="utf-8") == "{}\n"
    assert oct(target.stat().st_mode & 0o777) == "0o600"
