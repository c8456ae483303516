"""Lambda entry point of the notifier (SQS from the alert topic, EventBridge, Logs, alarm
actions), posting to Slack and Microsoft Teams."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from opskit.batch import process_partial
from opskit.handler import Invocation, Trigger, automation
from opskit.observability import logger, metrics
from slack_notifier.delivery import (
    ATTEMPT_SECONDS,
    SAFETY_MARGIN_SECONDS,
    HttpSession,
    Poster,
    WebhookSession,
)
from slack_notifier.grouping import dispatch_key, merge
from slack_notifier.notifier import Notifier, WebhookStore
from slack_notifier.renderers import Incoming
from slack_notifier.settings import AUTOMATION, NotifierConfig
from slack_notifier.sources import from_direct_event, from_sqs_body, is_sqs_batch

# The notifier's own custom metric (dimension `automation`), only when a notice failed: its
# delivery alarm watches it. Deliveries are counted by Lambda's Invocations and the log lines.
NOTICES_FAILED = "NoticesFailed"
METRIC_NAMES = (NOTICES_FAILED,)

webhook_store = WebhookStore()
http: HttpSession = WebhookSession()  # reused across warm invocations: one TLS handshake

# No notice is started unless one full attempt and the margin still fit in the invocation.
MIN_SECONDS_TO_START = ATTEMPT_SECONDS + SAFETY_MARGIN_SECONDS


class NoticeNotDeliveredError(RuntimeError):
    """One notice (and so each of its records) was not delivered: the record goes back."""


class DeliveryFailedError(RuntimeError):
    """The invocation fails, so the function's Errors alarm sees a dead webhook or an outage:
    every notice of an SQS batch failed (SQS retries the whole batch, as it would anyway), or
    any notice of a direct invocation did (Lambda retries it)."""


@dataclass
class _Notice:
    """One notice to send and the SQS records it stands for."""

    incoming: Incoming
    message_ids: list[str]


def _unwrap(record: Any, index: int) -> tuple[str, Incoming]:
    """A record's message id and message; a record too odd to unwrap is still shown, as text."""
    record = record if isinstance(record, dict) else {}
    message_id = str(record.get("messageId", index))
    try:
        return message_id, from_sqs_body(str(record.get("body", "")), record.get("awsRegion"))
    except Exception as exc:
        logger.exception("record could not be unwrapped: shown as text")
        return message_id, Incoming(payload=f"(a message that could not be read: "
                                            f"{type(exc).__name__})")


def _group(records: list[Any]) -> list[_Notice]:
    """Each record is one notice, except the reports of one dispatched run (one per target),
    which become one notice."""
    groups: dict[Any, list[tuple[str, Incoming]]] = {}
    for index, record in enumerate(records):
        message_id, incoming = _unwrap(record, index)
        groups.setdefault(dispatch_key(incoming) or ("record", index), []).append(
            (message_id, incoming))
    notices = []
    for members in groups.values():
        ids = [message_id for message_id, _ in members]
        if len(members) == 1:
            notices.append(_Notice(members[0][1], ids))
            continue
        singles = [incoming for _, incoming in members]
        try:
            notices.append(_Notice(merge(singles), ids))
        except Exception:
            logger.exception("dispatched reports could not be merged: sent one by one")
            notices.extend(_Notice(incoming, [message_id]) for message_id, incoming in members)
    return notices


def deliver_batch(notifier: Notifier, records: list[Any],
                  remaining_seconds: Callable[[], float] = lambda: float("inf"),
                  ) -> dict[str, Any]:
    """Send each notice in turn (opskit.batch's partial batch response): a notice that cannot be
    delivered returns its records in batchItemFailures, so SQS retries only those; when time
    runs short, the notices not yet started are returned the same way. When nothing at all was
    delivered, the invocation fails (DeliveryFailedError).

    The reports of one dispatched run are one notice for several records: the first of them
    sends it, and the others share its outcome."""
    notices = _group(records)
    notice_of = {message_id: notice for notice in notices for message_id in notice.message_ids}
    outcomes: dict[int, str | None] = {}  # id(notice) -> None (delivered) or the problem

    def send(notice: _Notice) -> str | None:
        if remaining_seconds() < MIN_SECONDS_TO_START:
            logger.warning("time is running short: notice returned to the queue",
                           extra={"records": len(notice.message_ids)})
            return "no time left in the invocation"
        try:
            notifier.send(notice.incoming)
        except Exception as exc:
            logger.exception("notice not delivered", extra={"records": len(notice.message_ids)})
            return str(exc)
        return None

    def record_handler(record: Mapping[str, Any]) -> None:
        notice = notice_of[str(record["messageId"])]
        if id(notice) not in outcomes:
            outcomes[id(notice)] = send(notice)
        problem = outcomes[id(notice)]
        if problem is not None:
            raise NoticeNotDeliveredError(problem)

    response = process_partial(records, record_handler)
    failures = [{"itemIdentifier": item["itemIdentifier"]}
                for item in response["batchItemFailures"]]
    delivered = sum(1 for problem in outcomes.values() if problem is None)
    problems = [problem for problem in outcomes.values() if problem is not None]
    if failures:
        metrics.add_metric(name=NOTICES_FAILED, unit=MetricUnit.Count, value=len(failures))
    if failures and not delivered:
        raise DeliveryFailedError(f"none of the {len(failures)} record(s) could be delivered, "
                                  f"first: {problems[0]}; SQS will retry them")
    return {"batchItemFailures": failures}


def deliver_direct(notifier: Notifier, incomings: list[Incoming]) -> dict[str, Any]:
    """Direct invocations (EventBridge rule, Logs subscription, SNS, alarm action): every
    notice is tried; any failure fails the call, so Lambda retries it."""
    delivered, problems = [], []
    for incoming in incomings:
        try:
            delivered.append(notifier.send(incoming))
        except Exception as exc:
            logger.exception("notice not delivered")
            problems.append(str(exc))
    if problems:
        metrics.add_metric(name=NOTICES_FAILED, unit=MetricUnit.Count, value=len(problems))
        raise DeliveryFailedError(f"{len(problems)} of {len(incomings)} notice(s) could not be "
                                  f"delivered, first: {problems[0]}")
    return {"delivered": delivered}


@automation(AUTOMATION, config=NotifierConfig.from_env, triggers={Trigger.MESSAGES})
def lambda_handler(run: Invocation[NotifierConfig]) -> dict[str, Any]:
    config, context = run.config, run.context

    def remaining() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000

    notifier = Notifier(config, webhook_store.load(config), Poster(http, remaining))
    if is_sqs_batch(run.event):
        return deliver_batch(notifier, run.event["Records"], remaining)
    return deliver_direct(notifier, from_direct_event(run.event, config.region))
