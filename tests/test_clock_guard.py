"""The clock guard covers every test that moves the clock: `make test` reruns them a year and
more ahead (CLOCK_TESTS in the Makefile), and the guard really moves the suite's clock."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.conftest import clock_offset_days

ROOT = Path(__file__).resolve().parent.parent


def _clock_tests() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^CLOCK_TESTS := ((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert match is not None
    return match[1].replace("\\\n", " ").split()


@pytest.mark.parametrize("path", sorted(
    p for p in (ROOT / "tests").rglob("test_*.py")
    if re.search(r"^(import|from) time_machine", p.read_text(), re.MULTILINE)),
    ids=lambda p: str(p.relative_to(ROOT)))
def test_every_test_that_travels_in_time_is_rerun_by_the_clock_guard(path: Path) -> None:
    relative = path.relative_to(ROOT)
    covered = [entry for entry in _clock_tests()
               if relative == Path(entry) or Path(entry) in relative.parents]
    assert covered, f"add {relative} to CLOCK_TESTS in the Makefile"


def test_the_guard_moves_the_clock_by_its_offset(tmp_path: Path) -> None:
    """A file's modification time comes from the kernel, the real clock: the suite's clock is
    the guard's offset ahead of it (none without the guard)."""
    marker = tmp_path / "now"
    marker.write_text("")
    ahead = time.time() - marker.stat().st_mtime
    assert abs(ahead - clock_offset_days() * 86_400) < 600
