"""The flow every automation follows: targets -> plan -> executor -> report -> alert topic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from opskit import dispatch
from opskit.actions import Executor, count_outcomes
from opskit.aws import SessionFactory, Target, TargetFailure, for_each_target, target_pairs
from opskit.config import CommonConfig
from opskit.notify import Report, RunContext, Severity, build_report, publish_report
from opskit.observability import (
    logger,
    record_counts,
    record_outcome,
    record_target_failure,
    start_run,
)

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


@dataclass
class TargetRun:
    """What an automation's logic hands back for one target."""

    title: str | None = None
    severity: Severity | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Routine work (e.g. tagging each new resource): publish the report only when something failed.
    quiet: bool = False


Work = Callable[[Target, Executor], TargetRun]
# Room kept before the Lambda deadline to finish the current call, report and flush metrics.
DEADLINE_MARGIN_MS = 30_000


def run_automation(
    config: CommonConfig,
    work: Work,
    *,
    run_id: str,
    base_session: boto3.Session | None = None,
    factory: SessionFactory | None = None,
    pairs: list[tuple[str, str]] | None = None,
    remaining_ms: Callable[[], int] | None = None,
    event: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run `work` on every target (or on `pairs`, for an event about one account and region),
    publish one report per target, return the run summary.

    With `remaining_ms` (the Lambda context's get_remaining_time_in_millis), no write and no
    target starts in the last DEADLINE_MARGIN_MS: what is left is reported for the next run."""
    start_run(config.automation)

    def out_of_time() -> bool:
        return remaining_ms is not None and remaining_ms() < DEADLINE_MARGIN_MS

    if factory is None and base_session is not None:
        factory = SessionFactory(config.home_region, config.assume_role_name,
                                 f"opskit-{config.automation}", base=base_session)
    # The container's factory otherwise: clients and credentials outlive the invocation.
    factory = factory or SessionFactory.shared(config.home_region, config.assume_role_name,
                                               f"opskit-{config.automation}")
    sns: SNSClient | None = None
    if config.alert_topic_arn:
        sns = factory.base.client("sns", region_name=config.alert_topic_arn.split(":")[3])

    def publish(report: Report) -> str | None:
        if sns is None or config.alert_topic_arn is None:
            return None
        try:
            return publish_report(sns, config.alert_topic_arn, report)
        except Exception:  # a lost report must not turn a good run into a failed one
            logger.exception("report not published", extra={"title": report.title})
            return None

    def on_target(target: Target) -> dict[str, Any]:
        executor = Executor(config.dry_run, config.exemption_tag_key, recorder=record_outcome,
                            out_of_time=out_of_time)
        result = work(target, executor)
        run = RunContext(config.automation, target.account_id, target.region, run_id,
                         config.dry_run)
        extra = dict(result.extra)
        dispatched = dispatch.WORKER_RUN.get()
        if dispatched:
            extra["dispatch"] = dispatched  # one target of a dispatched run
        report = build_report(run, executor.outcomes, title=result.title,
                              severity=result.severity, extra=extra)
        record_counts(dict(report.counts))
        logger.info("target done", extra={"target": str(target), "counts": dict(report.counts),
                                          "title": report.title, **result.extra})
        if not result.quiet or report.counts["failed"]:
            publish(report)
        return report.to_dict()

    def on_failure(failure: TargetFailure) -> None:
        record_target_failure(failure.account_id, failure.region, failure.error)
        run = RunContext(config.automation, failure.account_id, failure.region, run_id,
                         config.dry_run)
        extra: dict[str, Any] = {"error": failure.error}
        dispatched = dispatch.WORKER_RUN.get()
        if dispatched:
            extra["dispatch"] = dispatched
        publish(build_report(run, [], severity="critical",
                             title=f"{config.automation} failed in {failure.account_id}/"
                                   f"{failure.region}", extra=extra))

    worker_target = dispatch.WORKER_TARGET.get()
    if worker_target is not None:
        pairs = [worker_target]  # a dispatched message: exactly its target
    pairs = pairs or target_pairs(config, factory.home_account(), factory.base)
    if config.dispatch_queue_url and worker_target is None and event is not None:
        sqs = factory.base.client("sqs", region_name=config.dispatch_queue_url.split(".")[1])
        refused = dispatch.send(sqs, config.dispatch_queue_url, config.automation, pairs, event,
                                run_id=run_id)
        logger.info("dispatched", extra={"targets": len(pairs), "refused": refused})
        return {"automation": config.automation, "dry_run": config.dry_run,
                "counts": count_outcomes([]), "dispatched": len(pairs) - len(refused),
                "refused": refused, "targets": [], "failed_targets": []}
    results, failures = for_each_target(pairs, factory, on_target, on_failure, out_of_time)
    reports = [report for _, report in results]
    totals = count_outcomes([])
    for report in reports:
        for status, number in report["counts"].items():
            totals[status] += number
    return {
        "automation": config.automation,
        "dry_run": config.dry_run,
        "counts": totals,
        "targets": [
            {"account": r["account"], "region": r["region"], "title": r["title"],
             "counts": r["counts"]} for r in reports
        ],
        "failed_targets": [
            {"account": f.account_id, "region": f.region, "error": f.error} for f in failures
        ],
    }
