"""`make demo` runs every automation's scenario end to end: it must keep working."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_runs_every_scenario() -> None:
    # A process of its own: the demo sets the environment and fakes moto's missing APIs.
    done = subprocess.run([sys.executable, "-m", "demo"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    for scenario in ("instance_scheduler", "auto_tagger", "s3_public_remediation",
                     "sg_open_port_remediation", "access_key_auditor", "resource_cleanup",
                     "self_healing", "rds_backup", "deploy_guard", "log_shipper", "slack_notifier"):
        assert f"\n{scenario}: " in done.stdout, scenario
    # Each report shows under its own scenario (scenarios run at their sample event's time,
    # which a queue subscribed to the topic would drop as too old).
    sections = done.stdout.split("\n\n")
    for scenario in ("resource_cleanup", "self_healing", "deploy_guard"):
        start = next(i for i, part in enumerate(sections) if part.startswith(f"{scenario}: "))
        shown = "\n".join(sections[start:start + 3])
        assert "\n  [" in shown, f"{scenario}: no report shown"
    assert done.stdout.rstrip().endswith(
        "No AWS account was used: every call went to an in-process moto account.")
