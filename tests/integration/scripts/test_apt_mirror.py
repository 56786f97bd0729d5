"""scripts/apt-mirror: the test image is built from the mirror the machine's own apt sources name."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "apt-mirror"


def mirror(etc: Path, suite: str = "bookworm") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), suite],
        env={"APT_ETC": str(etc), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def write(etc: Path, name: str, text: str) -> None:
    path = etc / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_deb822_sources_skip_other_suites_disabled_stanzas_and_deb_src(tmp_path: Path) -> None:
    write(
        tmp_path,
        "sources.list.d/debian.sources",
        "Types: deb\nURIs: http://security.mirror.test/debian-security\nSuites: bookworm-security\n"
        "Components: main\n\n"
        "Types: deb-src\nURIs: http://src.mirror.test/debian\nSuites: bookworm\n\n"
        "Enabled: no\nTypes: deb\nURIs: http://off.mirror.test/debian\nSuites: bookworm\n\n"
        "# a comment\nTypes: deb\nURIs: http://main.mirror.test/debian/ http://second.mirror.test/debian\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n",
    )
    result = mirror(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "http://main.mirror.test/debian\n"


def test_one_line_format_with_options(tmp_path: Path) -> None:
    write(tmp_path, "sources.list", "deb-src http://src.mirror.test/debian bookworm main\n")
    write(
        tmp_path,
        "sources.list.d/local.list",
        "# deb http://commented.mirror.test/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://opts.mirror.test/debian/ bookworm main\n",
    )
    result = mirror(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "http://opts.mirror.test/debian\n"


def test_files_with_other_endings_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "sources.list.d/old.list.disabled", "deb http://disabled.mirror.test/debian bookworm main\n")
    write(tmp_path, "sources.list.d/new.sources", "Types: deb\nURIs: http://new.mirror.test/debian\nSuites: bookworm\n")
    result = mirror(tmp_path)
    assert result.stdout == "http://new.mirror.test/debian\n"


def test_no_source_for_the_suite_is_one_clear_error(tmp_path: Path) -> None:
    write(tmp_path, "sources.list", "deb http://mirror.test/debian trixie main\n")
    result = mirror(tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "no 'deb' source for suite 'bookworm'" in result.stderr


def test_no_sources_at_all(tmp_path: Path) -> None:
    result = mirror(tmp_path / "missing")
    assert result.returncode == 1
    assert "no apt sources found" in result.stderr


def test_this_machine_has_a_mirror_for_its_own_release() -> None:
    result = subprocess.run([str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(("http://", "https://", "file:/")), result.stdout
