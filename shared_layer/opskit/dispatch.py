"""Dispatch mode: the scheduled run fans out one SQS message per (automation, account, region);
the automation's own function consumes them, one target per message.

A worker run is the same code as a single run (`run_automation`) limited to the message's
target, so one slow or broken account delays or fails only its own message, which SQS retries
and finally moves to the dead-letter queue.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any

from opskit.batch import process_partial, records_of
from opskit.events import EventError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SCHEMA = "opskit.dispatch/1"
SEND_BATCH = 10  # SendMessageBatch takes up to 10 messages
# Set while a worker runs one message: run_automation then runs exactly this target.
WORKER_TARGET: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "opskit_worker_target", default=None)
# The dispatching run's id and target count, which every target's report carries, so the
# reports of one run can be told apart and shown together.
WORKER_RUN: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "opskit_worker_run", default=None)


def message(automation: str, account: str, region: str, event: dict[str, Any],
            run: dict[str, Any] | None = None) -> str:
    return json.dumps({"schema": SCHEMA, "automation": automation, "account": account,
                       "region": region, "event": event, "run": run or {}}, default=str)


def send(sqs: SQSClient, queue_url: str, automation: str, pairs: Sequence[tuple[str, str]],
         event: dict[str, Any], *, run_id: str = "") -> list[str]:
    """Sends one message per target; returns the targets SQS refused (as 'account/region')."""
    refused: list[str] = []
    run = {"run_id": run_id, "targets": len(pairs)}
    for start in range(0, len(pairs), SEND_BATCH):
        batch = pairs[start:start + SEND_BATCH]
        entries = [{"Id": str(i),
                    "MessageBody": message(automation, account, region, event, run)}
                   for i, (account, region) in enumerate(batch)]
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]
        refused.extend("/".join(batch[int(f["Id"])]) for f in response.get("Failed", []))
    return refused


def parse(body: str, automation: str) -> tuple[tuple[str, str], dict[str, Any], dict[str, Any]]:
    """A message's target, scheduled event and run; EventError naming the field otherwise."""
    try:
        value = json.loads(body)
    except ValueError:
        raise EventError("body", body[:80], "a JSON dispatch message") from None
    if not isinstance(value, dict) or value.get("schema") != SCHEMA:
        raise EventError("body.schema", value.get("schema") if isinstance(value, dict) else None,
                         SCHEMA)
    if value.get("automation") != automation:
        raise EventError("body.automation", value.get("automation"), automation)
    for field in ("account", "region"):
        if not isinstance(value.get(field), str):
            raise EventError(f"body.{field}", value.get(field), "a string")
    if not isinstance(value.get("event"), dict):
        raise EventError("body.event", value.get("event"), "the scheduled event")
    run: dict[str, Any] = value["run"] if isinstance(value.get("run"), dict) else {}
    return (value["account"], value["region"]), value["event"], run


def is_dispatch_batch(event: object) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return (isinstance(records, list) and bool(records)
            and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records))


Handler = Callable[[Any, Any], dict[str, Any]]


class TargetFailedError(RuntimeError):
    """A dispatched target's run failed: its message goes back to the queue."""


def worker(automation: str) -> Callable[[Handler], Handler]:
    """Lets a scheduled handler consume its dispatch queue, through opskit.batch:
    each SQS record runs the handler on the record's event, for the record's target only. A
    record whose run raised or whose target failed is returned in batchItemFailures, so SQS
    retries just that one. The invocation itself succeeds even when every record failed: a
    failed target has already published its critical report, and after its last attempt its
    message waits in the work queue's DLQ, whose alarm says so (an Errors alarm for every
    retry of one account would only repeat it)."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        def wrapped(event: Any, context: Any) -> dict[str, Any]:
            if not is_dispatch_batch(event):
                return handler(event, context)

            def run_record(record: Mapping[str, Any]) -> dict[str, Any]:
                target, inner, run = parse(str(record.get("body") or ""), automation)
                token, run_token = WORKER_TARGET.set(target), WORKER_RUN.set(run)
                try:
                    result = handler(inner, context)
                finally:
                    WORKER_TARGET.reset(token)
                    WORKER_RUN.reset(run_token)
                if result.get("failed_targets"):
                    raise TargetFailedError(f"{'/'.join(target)}: "
                                            f"{result['failed_targets'][0].get('error')}")
                return result

            return process_partial(records_of(event), run_record)

        return wrapped

    return decorate
