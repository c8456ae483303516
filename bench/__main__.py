"""Run every benchmark module of this package and write their sections to bench/results.md.

A benchmark is any module `bench/<name>.py` (not starting with `_`) that defines
`main() -> str` returning one markdown section; modules run in name order.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from bench._summary import END, START, block_of, recorded, replace_block, table

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results.md"
README = BENCH.parent / "README.md"
MACHINE_NOTE = "moto in-process; wall times are for moto, not real AWS"
START_END = f"{START}\n{END}"

Benchmark = Callable[[], str]


def discover() -> list[tuple[str, Benchmark]]:
    """(name, main) of every benchmark module, in name order."""
    found: list[tuple[str, Benchmark]] = []
    for info in sorted(pkgutil.iter_modules([str(BENCH)]), key=lambda module: module.name):
        if info.ispkg or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__package__ or 'bench'}.{info.name}")
        entry = getattr(module, "main", None)
        if callable(entry):
            found.append((info.name, cast(Benchmark, entry)))
    return found


def header(now: str) -> str:
    machine = (f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
               f"{os.cpu_count()} CPUs")
    return (f"# Benchmarks\n\nDate: {now}\n\n"
            f"Machine: {machine}. Note: {MACHINE_NOTE}.\n")


def main() -> int:
    benchmarks = discover()
    if not benchmarks:
        print("no benchmark found in bench/", file=sys.stderr)
        return 1
    sections = []
    for name, run in benchmarks:
        print(f"== {name}", flush=True)
        section = run().strip()
        print(section, flush=True)
        sections.append(section)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = table(recorded(), now)
    RESULTS.write_text("\n\n".join([header(now).strip(), "## Summary",
                                     replace_block(f"{START_END}", summary), *sections]) + "\n")
    README.write_text(replace_block(README.read_text(), summary))
    assert block_of(README) == block_of(RESULTS)
    print(f"\nwritten to {RESULTS} and README.md (Measured)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
