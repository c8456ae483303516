"""Writes events/log_shipper/<name>.json from the readable payloads in sample_sources/: each one
as CloudWatch Logs delivers it to Lambda, {"awslogs": {"data": base64 of gzip of the JSON}}.

`python -m tests.log_shipper.make_samples` rewrites them; tests/log_shipper/test_samples.py
fails while a committed sample is not what its source makes.
"""

from __future__ import annotations

import base64
import gzip
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sample_sources"
EVENTS = HERE.parent.parent / "events" / "log_shipper"


def encode(payload: Any) -> dict[str, dict[str, str]]:
    """A payload as a subscription sends it (gzip without a time in its header: the same
    payload always makes the same sample)."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return {"awslogs": {"data": base64.b64encode(gzip.compress(raw, mtime=0)).decode()}}


def rendered() -> dict[Path, str]:
    return {EVENTS / source.name: json.dumps(encode(json.loads(source.read_text())), indent=2)
            + "\n" for source in sorted(SOURCES.glob("*.json"))}


def main() -> int:
    for path, text in rendered().items():
        path.write_text(text)
        print(f"written: {path.relative_to(EVENTS.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
