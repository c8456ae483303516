"""Plain-text tables for the terminal."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                 *, max_width: int = 60) -> str:
    """Columns padded to their widest cell (cut at `max_width`); the last one is never cut."""
    last = len(headers) - 1

    def cell(value: object, column: int) -> str:
        flat = " ".join(str(value).split())
        if column == last or len(flat) <= max_width:
            return flat
        return flat[: max_width - 1] + "…"

    cells = [[cell(value, i) for i, value in enumerate(row)] for row in (headers, *rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for number, row in enumerate(cells):
        padded = [value.ljust(widths[i]) if i < len(row) - 1 else value
                  for i, value in enumerate(row)]
        lines.append("  ".join(padded).rstrip())
        if number == 0:
            lines.append("  ".join("-" * min(width, max_width) for width in widths))
    return "\n".join(lines)
