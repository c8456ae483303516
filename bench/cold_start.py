"""Cold start: the import time of each handler in a fresh interpreter, against `import boto3`.

A Lambda cold start imports the handler module once; boto3 is the floor every Python function
pays. Each figure is the median of RUNS fresh interpreters (`python -c`), measured inside the
interpreter with perf_counter around the import, so interpreter start-up is excluded.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench._summary import record

ROOT = Path(__file__).resolve().parent.parent
RUNS = 11
TARGET_RATIO = 1.3
HANDLERS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
PROBE = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def _seconds(statement: str) -> float:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared_layer'}:{ROOT / 'functions'}",
           "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
           "POWERTOOLS_METRICS_NAMESPACE": "Opskit"}
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(  # noqa: S603 - our own interpreter and a fixed statement
            [sys.executable, "-c", PROBE.format(stmt=statement)], env=env,
            capture_output=True, text=True, check=True, cwd=ROOT)
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def main() -> str:
    boto3 = _seconds("import boto3")
    powertools = _seconds("import boto3; from aws_lambda_powertools import Logger, Metrics; "
                          "from aws_lambda_powertools.utilities.data_classes import "
                          "EventBridgeEvent")
    layer = _seconds("import boto3; import opskit.runner, opskit.cloudtrail")
    rows = []
    imports: list[float] = []
    for name in HANDLERS:
        seconds = _seconds(f"import {name}.app")
        imports.append(seconds)
        rows.append(f"| {name} | {seconds * 1000:.0f} | {seconds / boto3:.2f} | "
                    f"{'yes' if seconds / boto3 <= TARGET_RATIO else 'no'} |")
    share = (powertools - boto3) / max(layer - boto3, 1e-9)
    ratios = [seconds / boto3 for seconds in imports]
    record(f"Cold start: handler import time over `import boto3` (median of {RUNS})",
           f"{min(ratios):.2f}x to {max(ratios):.2f}x", f"{TARGET_RATIO}x")
    return "\n".join([
        "## Cold start: handler import time",
        "",
        f"Median of {RUNS} fresh interpreters each. `import boto3` alone: {boto3 * 1000:.0f} ms. "
        f"boto3 plus Powertools' Logger, Metrics and data classes: {powertools * 1000:.0f} ms; "
        f"boto3 plus the opskit layer (which imports Powertools): {layer * 1000:.0f} ms, so "
        f"Powertools is {share:.0%} of what the layer adds to boto3. The ratio is the handler's "
        f"import time over `import boto3`; the target is {TARGET_RATIO}x or less.",
        "",
        "| handler | import (ms) | ratio to boto3 | within target |",
        "|---|---:|---:|---|",
        *rows,
    ])


if __name__ == "__main__":
    print(main())
