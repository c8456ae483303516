"""Run every automation's demo scenario in one in-process moto account and print what it did."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any
from unittest.mock import patch

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared_layer"), str(ROOT / "functions"), str(ROOT / "cli")]
os.environ.update({
    "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_SESSION_TOKEN": "demo",
    "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1",
    "POWERTOOLS_METRICS_NAMESPACE": "Opskit", "POWERTOOLS_METRICS_DISABLED": "true",
    # Keep the console for reports: structured logs only for warnings and errors.
    "LOG_LEVEL": "WARNING", "POWERTOOLS_LOG_LEVEL": "WARNING",
})

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from demo.console import print_heading, print_report  # noqa: E402
from demo.scenarios import SCENARIOS  # noqa: E402
from opskit import runner  # noqa: E402
from opskit.observability import metrics  # noqa: E402
from opskit_cli.main import main as opskit  # noqa: E402


def _alert_topic() -> str:
    return str(boto3.client("sns").create_topic(Name="opskit-alerts")["TopicArn"])


class Published:
    """The reports the automations publish to the alert topic, as published. Read where they
    are published rather than from a queue subscribed to the topic: moto's SQS drops messages
    sent longer ago than the retention period, and a scenario runs at its sample event's time,
    which gets older every day."""

    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []
        self._publish = vars(runner)["publish_report"]  # the name the runner calls

    def __call__(self, sns: Any, topic_arn: str, report: Any) -> str | None:
        message_id: str | None = self._publish(sns, topic_arn, report)
        if message_id is not None:
            self.reports.append(json.loads(json.dumps(report.to_dict(), default=str)))
        return message_id

    def drain(self) -> list[dict[str, Any]]:
        reports, self.reports = self.reports, []
        return reports


def main() -> int:
    published = Published()
    with mock_aws(), patch.object(runner, "publish_report", published):
        os.environ["ALERT_TOPIC_ARN"] = _alert_topic()
        for scenario in SCENARIOS:
            print_heading(f"{scenario.name}: {scenario.description}")
            scenario.seed()
            for dry_run in scenario.dry_run_modes:
                os.environ["DRY_RUN"] = dry_run
                if len(scenario.dry_run_modes) > 1:
                    print(f"\n  -- DRY_RUN={dry_run}")
                # Structured logs and metrics go to stdout in Lambda; here only the reports matter.
                with contextlib.redirect_stdout(io.StringIO()):
                    summary = scenario.run()
                metrics.clear_metrics()  # what log_metrics does at the end of an invocation
                reports = published.drain()
                for report in reports:
                    print_report(report)
                for line in summary.get("lines", []):
                    print(f"  {line}")
                if not reports and "lines" not in summary:
                    print(f"  (no report: {summary.get('counts')})")
    command = ["schedule", "mon-fri 08:00-19:00 Europe/Paris", "--from", "2027-03-25"]
    print_heading("opskit schedule: the command line explains a Schedule tag (docs/cli.md)")
    print(f"$ opskit {command[0]} {command[1]!r} {' '.join(command[2:])}")
    opskit(command)
    print("\nNo AWS account was used: every call went to an in-process moto account.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
