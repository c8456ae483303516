"""The project cites only files it ships: every `*.md` named in code, docs or tests exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [*ROOT.glob("*.md"), *ROOT.glob("*.yaml"), ROOT / "Makefile", ROOT / "pyproject.toml",
           *(path for folder in ("functions", "shared_layer", "docs", "tests", "bench", "demo")
             for path in (ROOT / folder).rglob("*") if path.suffix in {".py", ".md", ".yaml"})]
CITATION = re.compile(r"(?<![\w./-])([\w./-]+\.md)\b")


def _exists(cited: str, source: Path) -> bool:
    return any((base / cited).is_file() for base in (source.parent, ROOT, ROOT / "docs"))


@pytest.mark.parametrize("source", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_every_cited_markdown_file_ships(source: Path) -> None:
    missing = sorted({cited for cited in CITATION.findall(source.read_text(encoding="utf-8"))
                      if not _exists(cited, source)})
    assert missing == []
