"""`opskit plan`: an automation's scheduled run against your account, read-only, as a plan."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from opskit.config import ConfigError
from opskit.events import EventError
from opskit_cli import catalog
from opskit_cli.accounts import CREDENTIAL_ERRORS, home_region
from opskit_cli.errors import UsageError
from opskit_cli.guard import WriteRefused, read_only
from opskit_cli.local_lambda import (
    captured_reports,
    environment,
    lambda_context,
    logs_to,
    new_container,
)
from opskit_cli.table import format_table

SCHEDULE = "schedule"  # opskit.handler.Trigger.SCHEDULE
# The placeholder account of the Lambda context (the run asks STS for the real one).
CONTEXT_ACCOUNT = "000000000000"
PROGRESS_EVERY_CALLS = 25


@dataclass
class PlanRequest:
    automation: str
    profile: str | None = None
    regions: list[str] | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    event_path: Path | None = None
    as_json: bool = False
    verbose: bool = False
    progress: bool = True


@dataclass
class PlanResult:
    reports: list[dict[str, Any]]
    summary: dict[str, Any]
    calls: int

    @property
    def failed(self) -> bool:
        return bool(self.summary.get("failed_targets"))


class Progress:
    """What a long plan is doing, on standard error: a line per target done, and (on a
    terminal) the number of AWS calls so far."""

    def __init__(self, stream: IO[str], enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.live = enabled and stream.isatty()
        self.calls = 0
        self.targets = 0

    def call(self, service: str, operation: str) -> None:
        self.calls += 1
        if self.live and self.calls % PROGRESS_EVERY_CALLS == 0:
            self.stream.write(f"\r  {self.calls} AWS calls (last: {service}.{operation})\033[K")
            self.stream.flush()

    def report(self, report: dict[str, Any]) -> None:
        self.targets += 1
        if not self.enabled:
            return
        prefix = "\r\033[K" if self.live else ""
        self.stream.write(f"{prefix}  [{self.targets}] {report['account']}/{report['region']}: "
                          f"{report['title']}\n")
        self.stream.flush()

    def start(self, text: str) -> None:
        if self.enabled:
            self.stream.write(f"{text}\n")
            self.stream.flush()


def scheduled_event(region: str, now: datetime | None = None) -> dict[str, Any]:
    """The event the template's schedule sends (EventBridge Scheduler)."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    return {"version": "0", "id": f"opskit-plan-{int(when.timestamp())}",
            "detail-type": "Scheduled Run", "source": "aws.scheduler",
            "account": CONTEXT_ACCOUNT, "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region, "resources": [], "detail": {}}


def read_event(path: Path, argument: str) -> dict[str, Any]:
    try:
        event = json.loads(path.read_text())
    except OSError as exc:
        raise UsageError(argument, f"cannot read {str(path)!r}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(argument, f"{str(path)!r} is not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise UsageError(argument, f"{str(path)!r} holds {type(event).__name__}, "
                         "expected a JSON object")
    return event


def _refuses_live(params: Mapping[str, str]) -> None:
    for name in ("DryRun", "DRY_RUN"):
        if name in params and params[name].strip().lower() != "true":
            raise UsageError("--param", f"{name}={params[name]}: a plan is always a dry run "
                             "(to change things, use opskit invoke --live)")


def run_plan(request: PlanRequest, *, stderr: IO[str] | None = None) -> PlanResult:
    """Run the automation's scheduled work in forced dry-run with every write refused."""
    errors = stderr or sys.stderr
    _refuses_live(request.params)
    region = home_region(request.profile, request.regions)
    try:
        spec = catalog.function_spec(request.automation, region=region,
                                     overrides=request.params)
    except catalog.CatalogError as exc:
        raise UsageError("--param", str(exc)) from None
    env: dict[str, str | None] = {
        **spec.environment,
        "DRY_RUN": "true",
        "ALERT_TOPIC_ARN": None,  # the reports are shown here, never published
        "DISPATCH_QUEUE_URL": None,  # every target in this process
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    if request.regions:
        env["TARGET_REGIONS"] = ",".join(request.regions)
    event = (read_event(request.event_path, "--event") if request.event_path
             else scheduled_event(region))
    with environment(env, profile=request.profile):
        handler = catalog.handler_of(request.automation)  # imported as on Lambda: env first
    if SCHEDULE not in catalog.triggers_of(handler):
        raise UsageError("automation", f"{request.automation} has no scheduled run to plan: it "
                         "acts on events (try opskit invoke with one of events/"
                         f"{request.automation}/)")
    progress = Progress(errors, request.progress)
    progress.start(f"planning {request.automation} (dry run, read-only) from {region}"
                   f"{' with profile ' + request.profile if request.profile else ''}...")
    context = lambda_context(request.automation, region=region, account=CONTEXT_ACCOUNT,
                             timeout_seconds=spec.timeout_seconds, memory_mb=spec.memory_mb)
    with (open(os.devnull, "w") as sink,
          environment(env, profile=request.profile), new_container(),
          read_only(progress.call) as guard, captured_reports(progress.report) as reports,
          logs_to(errors if request.verbose else sink)):
        try:
            summary = handler(event, context)
        except ConfigError as exc:
            raise UsageError("--param", str(exc)) from None
        except EventError as exc:  # only --event can be refused: the default one is the schedule's
            raise UsageError("--event", str(exc)) from None
    return PlanResult(reports, summary, guard.calls)


def _reason(action: Mapping[str, Any]) -> str:
    note = (action.get("details") or {}).get("note")
    reason = str(action.get("reason") or "")
    return f"{reason} ({note})" if note and note != reason else reason


def render_plan(result: PlanResult) -> str:
    """The plan as people read it: each target's title, one table of every action."""
    several = len(result.reports) > 1
    lines: list[str] = []
    rows: list[Sequence[str]] = []
    totals = {"planned": 0, "skipped": 0, "failed": 0, "done": 0}
    for report in result.reports:
        lines.append(f"{report['account']}/{report['region']}: {report['title']}"
                     + (f" (error: {report['error']})" if report.get("error") else ""))
        for status, number in report.get("counts", {}).items():
            totals[status] = totals.get(status, 0) + number
        for action in report.get("actions", []):
            where = [f"{report['account']}/{report['region']}"] if several else []
            rows.append([*where, str(action["resource"]), str(action["action"]),
                         str(action["status"]), _reason(action)])
        if report.get("truncated"):
            lines.append("  (actions cut to fit one report; the counts are exact)")
    lines.append("")
    if rows:
        headers = [*(["target"] if several else []), "resource", "action", "status", "reason"]
        lines.extend([format_table(headers, rows), ""])
    else:
        lines.extend(["no action", ""])
    lines.append(f"{totals['planned']} planned, {totals['skipped']} skipped, "
                 f"{totals['failed']} failed, in {len(result.reports)} target(s); dry run: "
                 f"nothing was changed ({result.calls} read-only AWS calls)")
    for failure in result.summary.get("failed_targets", []):
        lines.append(f"target failed: {failure['account']}/{failure['region']}: "
                     f"{failure['error']}")
    return "\n".join(lines)


def plan_command(request: PlanRequest, *, stdout: IO[str] | None = None,
                 stderr: IO[str] | None = None) -> int:
    out = stdout or sys.stdout
    try:
        result = run_plan(request, stderr=stderr)
    except WriteRefused as exc:  # outside a target: the run itself tried to write
        (stderr or sys.stderr).write(f"opskit plan: {exc}\n")
        return 1
    except CREDENTIAL_ERRORS as exc:  # the home account's identity, asked before any target
        whose = f" for profile {request.profile}" if request.profile else ""
        (stderr or sys.stderr).write(f"opskit plan: no usable AWS credentials{whose}: {exc}\n")
        return 1
    if request.as_json:
        out.write(json.dumps(result.reports, indent=2, default=str) + "\n")
    else:
        out.write(render_plan(result) + "\n")
    return 1 if result.failed else 0
