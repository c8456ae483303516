"""Lambda entry point of the Slack notifier (SQS from the alert topic, EventBridge, Logs)."""

from __future__ import annotations

from typing import Any

import requests
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from opskit.observability import start_run
from slack_notifier.delivery import Poster
from slack_notifier.grouping import dispatch_key, merge
from slack_notifier.notifier import Notifier, WebhookStore
from slack_notifier.renderers import Incoming
from slack_notifier.settings import AUTOMATION, NotifierConfig
from slack_notifier.sources import from_direct_event, from_sqs_body, is_sqs_batch

logger = Logger()
metrics = Metrics()
webhook_store = WebhookStore()
http = requests.Session()  # reused across warm invocations: one TLS handshake


def deliver_batch(notifier: Notifier, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Each SQS record is one notice, except the reports of one dispatched run (one per target)
    in the batch, which become one notice. A notice that cannot be delivered returns its
    records in batchItemFailures, so SQS retries only those."""
    groups: dict[Any, list[tuple[str, Incoming]]] = {}
    for index, record in enumerate(records):
        incoming = from_sqs_body(str(record.get("body", "")), record.get("awsRegion"))
        key = dispatch_key(incoming) or index
        groups.setdefault(key, []).append((str(record.get("messageId", index)), incoming))
    failures: list[dict[str, str]] = []
    delivered = 0
    for members in groups.values():
        incoming = members[0][1] if len(members) == 1 else merge([m[1] for m in members])
        try:
            notifier.send(incoming)
            delivered += 1
        except Exception:
            logger.exception("notice not delivered", extra={"records": len(members)})
            failures.extend({"itemIdentifier": message_id} for message_id, _ in members)
    metrics.add_metric(name="NoticesDelivered", unit=MetricUnit.Count, value=delivered)
    if failures:
        metrics.add_metric(name="NoticesFailed", unit=MetricUnit.Count, value=len(failures))
    return {"batchItemFailures": failures}


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = NotifierConfig.from_env()
    start_run(AUTOMATION)
    notifier = Notifier(config, webhook_store.load(config), Poster(
        http, remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000))

    if is_sqs_batch(event):
        return deliver_batch(notifier, event["Records"])
    # Direct invocations (EventBridge rule, Logs subscription, SNS): a failure fails the call.
    delivered = [notifier.send(incoming)
                 for incoming in from_direct_event(event, config.region)]
    metrics.add_metric(name="NoticesDelivered", unit=MetricUnit.Count, value=len(delivered))
    return {"delivered": delivered}
