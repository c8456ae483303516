"""The handler kit: what every automation's `lambda_handler` does around its own logic.

```python
@automation("instance_scheduler", config=SchedulerConfig.from_env,
            triggers={Trigger.SCHEDULE}, dispatch=True)
def lambda_handler(run: Invocation[SchedulerConfig]) -> dict[str, Any]:
    return run.targets(lambda target, executor: schedule_target(target, executor, run.config,
                                                                 run.now))
```

The decorator gives the function Lambda's `(event, context)` signature and, around the
automation's own code: Powertools' logger (the Lambda context in every line) and metrics (the
automation's dimension, the cold start), the dispatch worker for automations that spread their
targets over a work queue, the configuration read once per container (again only when the
environment changes), and the trigger: an event none of the declared triggers sends is refused
with the field named before any AWS call, and a scheduled run gets the Lambda's clock, never the
event's. The body raises `Skip` for an event it does not act on: the answer is then the same
skipped reply for every automation, logged, with nothing done.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import wraps
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from opskit.aws import SessionFactory
from opskit.config import CommonConfig
from opskit.dispatch import worker
from opskit.events import (
    API_CALL,
    MAX_EVENT_BYTES,
    EventError,
    Skip,
    require_object,
    require_scheduled_event,
)
from opskit.logs_payload import MAX_EVENT_BYTES as LOGS_MAX_EVENT_BYTES
from opskit.observability import metrics, start_run
from opskit.runner import Work, run_automation

if TYPE_CHECKING:  # a type only: the handlers never load the module
    from aws_lambda_powertools.utilities.typing import LambdaContext

ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
__all__ = ["Invocation", "Skip", "Trigger", "automation", "read_once", "traced"]


class Trigger(StrEnum):
    """What may invoke an automation."""

    SCHEDULE = "schedule"  # the template's EventBridge Scheduler or rule schedule
    API_CALL = "api-call"  # an "AWS API Call via CloudTrail" event
    ALARM = "alarm"  # a "CloudWatch Alarm State Change" event
    ROTATION = "rotation"  # a Secrets Manager rotation step ({"Step": ...})
    MESSAGES = "messages"  # anything to show (the notifier: SQS, SNS, Logs, events, alarms)
    # A CodeDeploy lifecycle hook or a CodePipeline job: the automation's own parser reads it,
    # and answers it even when it refuses it (deploy_guard).
    DEPLOYMENT = "deployment"
    # A CloudWatch Logs subscription's delivery ({"awslogs": {"data": ...}}): up to 1 MB of
    # gzip, so larger than the other triggers' events (opskit/logs_payload.py).
    LOGS = "logs"


@dataclass(frozen=True)
class Invocation[C]:
    """One invocation, as the automation's code sees it."""

    event: Any  # a JSON object, for every trigger but MESSAGES (anything to show)
    context: LambdaContext
    config: C
    common: CommonConfig | None  # None for the notifier, which acts on no AWS resource
    trigger: Trigger
    clock: datetime | None = None  # a scheduled run's: the Lambda's, never the event's

    @property
    def now(self) -> datetime:
        """A scheduled run's time (the Lambda's clock)."""
        if self.clock is None:
            raise TypeError(f"a {self.trigger} invocation has no scheduled time")
        return self.clock

    @property
    def home_account(self) -> str:
        """The account the function runs in: its credentials' account, asked once per
        container (the Lambda context's is made up under `sam local`)."""
        if self.common is None:
            return self.context.invoked_function_arn.split(":")[4]
        return SessionFactory.shared(self.common.home_region, self.common.assume_role_name,
                                     f"opskit-{self.common.automation}").home_account()

    def targets(self, work: Work, *, pairs: list[tuple[str, str]] | None = None
                ) -> dict[str, Any]:
        """Run `work` on the configured targets (or on `pairs`, for an event about one account
        and region), within the invocation's time, and report each target."""
        if self.common is None:
            raise TypeError("an automation without CommonConfig has no targets")
        scheduled = self.trigger is Trigger.SCHEDULE and pairs is None
        return run_automation(self.common, work, run_id=self.context.aws_request_id,
                              remaining_ms=self.context.get_remaining_time_in_millis,
                              pairs=pairs, event=self.event if scheduled else None)


type Body[C] = Callable[[Invocation[C]], dict[str, Any]]
LambdaHandler = Callable[[Any, Any], dict[str, Any]]  # (event, Lambda context)
# Variables the Lambda runtime sets or refreshes for each invocation (the trace id) or that
# carry the role's rotating credentials: no configuration reads them.
_PER_INVOCATION = frozenset({"_X_AMZN_TRACE_ID", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                             "AWS_SESSION_TOKEN", "AWS_LAMBDA_LOG_STREAM_NAME"})
_configs: dict[tuple[str, object, frozenset[tuple[str, str]]], Any] = {}


def read_once[C](name: str, load: Callable[[], C]) -> C:
    """The automation's configuration, read once per container: again only when the
    environment a configuration can read changed (never on Lambda; between tests, yes)."""
    environment = frozenset((key, value) for key, value in os.environ.items()
                            if key not in _PER_INVOCATION)
    key = (name, load, environment)
    if key not in _configs:
        _configs.clear()  # one environment at a time
        _configs[key] = load()
    config: C = _configs[key]
    return config


def _trigger(event: dict[str, Any], triggers: Collection[Trigger]) -> tuple[Trigger,
                                                                             datetime | None]:
    detail_type = event.get("detail-type")
    if Trigger.LOGS in triggers and "awslogs" in event:
        return Trigger.LOGS, None
    if Trigger.ROTATION in triggers and "Step" in event:
        return Trigger.ROTATION, None
    if Trigger.API_CALL in triggers and detail_type == API_CALL:
        return Trigger.API_CALL, None
    if Trigger.ALARM in triggers and detail_type == ALARM_STATE_CHANGE:
        return Trigger.ALARM, None
    if Trigger.SCHEDULE in triggers:  # anything else must be the schedule's own event
        return Trigger.SCHEDULE, require_scheduled_event(event)
    if len(triggers) == 1:  # the automation's own parser names what is wrong
        (only,) = triggers
        return only, None
    raise EventError("detail-type", detail_type, " or ".join(sorted(triggers)))


def _max_event_bytes(event: Any, triggers: Collection[Trigger]) -> int:
    if Trigger.LOGS in triggers and isinstance(event, dict) and set(event) == {"awslogs"}:
        return LOGS_MAX_EVENT_BYTES
    return MAX_EVENT_BYTES


# Tracing is the stack's choice (its Tracing parameter, passed as TRACING): with Active, Lambda
# records each invocation and Powertools' Tracer adds a subsegment for each AWS call and each
# webhook request. Otherwise the X-Ray SDK is not even imported (it costs cold-start time).
TRACED_MODULES = ("botocore", "requests")


def tracing_on() -> bool:
    return os.environ.get("TRACING", "") == "Active"


def traced(name: str, handler: LambdaHandler) -> LambdaHandler:
    """`handler` inside an X-Ray subsegment named after the automation, when tracing is on.
    Its reply is not recorded (it is the report, published already); an error is."""
    if not tracing_on():
        return handler
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - only when tracing is on

    tracer = Tracer(service=name, auto_patch=True, patch_modules=TRACED_MODULES)
    captured: LambdaHandler = tracer.capture_lambda_handler(capture_response=False)(handler)
    return captured


def cold_start_metric_on() -> bool:
    """Whether Powertools' ColdStart metric is emitted (the stack's ColdStartMetric, off by
    default: a custom metric per function costs more than the REPORT lines' Init Duration, which
    records every cold start anyway)."""
    return os.environ.get("COLD_START_METRIC", "") == "true"


def _with_metrics(handler: LambdaHandler) -> LambdaHandler:
    """`handler` flushing its metrics when it returns, with the cold start when asked for."""
    with_cold_start: LambdaHandler = metrics.log_metrics(capture_cold_start_metric=True)(handler)
    without: LambdaHandler = metrics.log_metrics(handler)

    @wraps(handler)
    def flushed(event: Any, context: Any) -> dict[str, Any]:
        chosen = with_cold_start if cold_start_metric_on() else without
        return chosen(event, context)

    return flushed


def automation[C](name: str, *, config: Callable[[], C], triggers: Collection[Trigger],
               common: Callable[[C], CommonConfig] | None = None, dispatch: bool = False,
               log_event: bool = False) -> Callable[[Body[C]], LambdaHandler]:
    """The Lambda handler of automation `name` around `body` (see the module's docstring).
    `common` finds the shared settings in the automation's configuration (its `common`
    attribute by default)."""
    logger = Logger()  # the service name is the function's POWERTOOLS_SERVICE_NAME

    def shared(value: C) -> CommonConfig | None:
        if common is not None:
            return common(value)
        found = getattr(value, "common", value)
        return found if isinstance(found, CommonConfig) else None

    def decorate(body: Body[C]) -> LambdaHandler:
        @wraps(body)
        def handle(event: Any, context: Any) -> dict[str, Any]:
            start_run(name)
            raw = event if Trigger.MESSAGES in triggers else require_object(
                event, max_bytes=_max_event_bytes(event, triggers))
            trigger, now = ((Trigger.MESSAGES, None) if Trigger.MESSAGES in triggers
                            else _trigger(raw, triggers))
            settings = read_once(name, config)
            invocation = Invocation(raw, context, settings, shared(settings), trigger, now)
            try:
                return body(invocation)
            except Skip as skip:
                if invocation.common is None:
                    raise
                # Only the CloudTrail-triggered automations skip events: the others never load it.
                from opskit.cloudtrail import skipped_event  # noqa: PLC0415

                return skipped_event(invocation.common, skip.reason, skip.ids)

        handle.opskit_triggers = frozenset(triggers)  # type: ignore[attr-defined]
        handler: LambdaHandler = handle
        if dispatch:
            handler = worker(name)(handler)
        handler = _with_metrics(handler)
        handler = traced(name, handler)
        wrapped: LambdaHandler = logger.inject_lambda_context(log_event=log_event)(handler)
        return wrapped

    return decorate
