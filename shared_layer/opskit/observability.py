"""Powertools logging and metrics shared by every automation, and the per-action record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from opskit.actions import Outcome

METRICS_NAMESPACE = "Opskit"
AUTOMATION_DIMENSION = "automation"

# Child logger: it inherits the handler, level and Lambda context keys of the function's Logger.
logger = Logger(child=True)
# Powertools keeps metrics in class attributes, so this instance feeds the handler's log_metrics.
metrics = Metrics()

_STATUS_METRIC = {
    "done": "ActionsDone",
    "planned": "ActionsPlanned",
    "skipped": "ActionsSkipped",
    "failed": "ActionsFailed",
}


def start_run(automation: str) -> None:
    """Tag this invocation's metrics with the automation's dimension (once per flush)."""
    if metrics.dimension_set.get(AUTOMATION_DIMENSION) != automation:
        metrics.add_dimension(AUTOMATION_DIMENSION, automation)


def record_outcome(outcome: Outcome) -> None:
    """One structured log line per action outcome."""
    entry = outcome.to_dict()
    if outcome.status == "failed":
        logger.warning("action failed", extra={"action": entry})
    else:
        logger.info(f"action {outcome.status}", extra={"action": entry})


def record_counts(counts: dict[str, int]) -> None:
    """One metric value per status and target (not per action: EMF holds 100 values a metric)."""
    for status, number in counts.items():
        if number:
            metrics.add_metric(name=_STATUS_METRIC[status], unit=MetricUnit.Count, value=number)


def record_target_failure(account: str, region: str, error: str) -> None:
    logger.error("target failed", extra={"account": account, "region": region, "error": error})
    metrics.add_metric(name="TargetsFailed", unit=MetricUnit.Count, value=1)
