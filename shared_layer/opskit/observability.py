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

# The custom metrics every automation emits (dimension `automation`), each only when not zero.
# Counts by status are in the report and in each action's log line (a Logs Insights query gives
# them); a metric each would cost a custom metric per status and automation. The failure
# signals stay metrics of their own, to alarm on.
ACTIONS = "Actions"  # every outcome of a run: done, planned, skipped and failed
ACTIONS_FAILED = "ActionsFailed"
TARGETS_FAILED = "TargetsFailed"
METRIC_NAMES = (ACTIONS, ACTIONS_FAILED, TARGETS_FAILED)


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
    """One value per target (not per action: EMF holds 100 values a metric): every action,
    and the failed ones apart."""
    total = sum(counts.values())
    if total:
        metrics.add_metric(name=ACTIONS, unit=MetricUnit.Count, value=total)
    if counts.get("failed"):
        metrics.add_metric(name=ACTIONS_FAILED, unit=MetricUnit.Count, value=counts["failed"])


def record_target_failure(account: str, region: str, error: str) -> None:
    logger.error("target failed", extra={"account": account, "region": region, "error": error})
    metrics.add_metric(name=TARGETS_FAILED, unit=MetricUnit.Count, value=1)
