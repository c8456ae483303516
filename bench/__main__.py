"""Run every benchmark module of this package and write their sections to bench/results.md.

A benchmark is any module `bench/<name>.py` (not starting with `_`) that defines
`main() -> str` returning one markdown section; modules run in name order.

`python -m bench <name> [<name>...]` runs only those: their sections and their headline rows
replace the ones of the last run in bench/results.md and README.md, the others are kept (the
header says which were run again, and when).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from bench._summary import END, START, Figure, block_of, recorded, replace_block, table

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


def _heading(section: str) -> str:
    return section.strip().splitlines()[0]


def _sections(text: str) -> list[str]:
    """The `## ` sections of a results file, its header and summary included."""
    parts = re.split(r"\n(?=## )", text.strip())
    return [part.strip() for part in parts]


def rerun(names: list[str]) -> int:
    """Runs the named benchmarks only and merges what they write into the last results."""
    known = dict(discover())
    unknown = [name for name in names if name not in known]
    if unknown:
        print(f"no benchmark named {', '.join(unknown)} (known: {', '.join(known)})",
              file=sys.stderr)
        return 2
    old = _sections(RESULTS.read_text())
    fresh = {}
    for name in names:
        print(f"== {name}", flush=True)
        section = known[name]().strip()
        print(section, flush=True)
        fresh[_heading(section)] = section
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = {figure.what: figure for figure in recorded()}
    kept = [line for line in block_of(RESULTS).splitlines() if line.startswith("| ")
            and not line.startswith(("| Measured |", "|---"))
            and line.split(" | ")[0].removeprefix("| ") not in rows]
    figures = [*(Figure(*(cell.strip() for cell in line.strip("| ").split(" | ")))
                 for line in kept), *rows.values()]
    when = f"{now}, re-run: {', '.join(names)}"
    summary = table(figures, when)
    sections = [fresh.get(_heading(section), section) for section in old]
    sections[0] = re.sub(r"^Date: .*$", f"Date: {when}", sections[0], count=1, flags=re.MULTILINE)
    sections += [section for heading, section in fresh.items()
                 if heading not in {_heading(s) for s in old}]
    RESULTS.write_text(replace_block("\n\n".join(sections), summary) + "\n")
    README.write_text(replace_block(README.read_text(), summary))
    print(f"\nmerged into {RESULTS} and README.md (Measured)")
    return 0


def main() -> int:
    if len(sys.argv) > 1:
        return rerun(sys.argv[1:])
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
