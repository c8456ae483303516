"""The headline figures of a `make bench` run: benchmarks record them, `python -m bench` writes them
at the top of bench/results.md and into README's Measured section (the same table in both)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

START = "<!-- measured:start (written by make bench) -->"
END = "<!-- measured:end -->"


@dataclass(frozen=True, slots=True)
class Figure:
    what: str
    figure: str
    reference: str = ""


_recorded: list[Figure] = []


def record(what: str, figure: str, reference: str = "") -> None:
    """A headline figure of the running benchmark, in the order recorded."""
    _recorded.append(Figure(what, figure, reference))


def recorded() -> list[Figure]:
    return list(_recorded)


def table(figures: list[Figure], date: str) -> str:
    rows = [f"| {f.what} | {f.figure} | {f.reference} |" for f in figures]
    return "\n".join([
        f"From the last `make bench` ({date}; details in `bench/results.md`; moto in-process, "
        "calls counted with a botocore hook):",
        "",
        "| Measured | Figure | Reference or target |",
        "|---|---|---|",
        *rows,
    ])


def replace_block(text: str, block: str) -> str:
    """`text` with what lies between the measured markers replaced by `block`."""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"the markers {START!r} and {END!r} are missing")
    return pattern.sub(lambda _: f"{START}\n{block}\n{END}", text)


def block_of(path: Path) -> str:
    """What lies between the measured markers of a file."""
    text = path.read_text()
    start, end = text.index(START) + len(START), text.index(END)
    return text[start:end].strip()
