"""README's Measured section is the summary of the last `make bench`, as bench/results.md has it."""

from __future__ import annotations

import re
from pathlib import Path

from bench._summary import block_of

ROOT = Path(__file__).resolve().parent.parent


def test_the_measured_section_is_the_last_bench_summary() -> None:
    readme, results = block_of(ROOT / "README.md"), block_of(ROOT / "bench/results.md")
    assert readme == results
    date = re.search(r"^Date: (.+)$", (ROOT / "bench/results.md").read_text(), re.MULTILINE)
    assert date is not None
    assert f"From the last `make bench` ({date[1]};" in readme
    assert "| Measured | Figure | Reference or target |" in readme
