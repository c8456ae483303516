"""Lambda entry point of the Slack notifier (SQS from the alert topic, EventBridge, Logs)."""

from __future__ import annotations

from typing import Any

import requests
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from opskit.observability import start_run
from slack_notifier.delivery import Poster
from slack_notifier.notifier import Notifier, WebhookStore
from slack_notifier.settings import AUTOMATION, NotifierConfig
from slack_notifier.sources import from_direct_event, from_sqs_body, is_sqs_batch

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
webhook_store = WebhookStore()
http = requests.Session()  # reused across warm invocations: one TLS handshake


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = NotifierConfig.from_env()
    start_run(AUTOMATION)
    notifier = Notifier(config, webhook_store.load(config), Poster(
        http, remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000))

    def send_record(record: SQSRecord) -> dict[str, Any]:
        result = notifier.send(from_sqs_body(record.body, record.aws_region))
        metrics.add_metric(name="NoticesDelivered", unit=MetricUnit.Count, value=1)
        return result

    if is_sqs_batch(event):
        response = process_partial_response(
            event=event, record_handler=send_record, processor=processor, context=context)
        failures = len(response["batchItemFailures"])
        if failures:
            metrics.add_metric(name="NoticesFailed", unit=MetricUnit.Count, value=failures)
        return dict(response)
    # Direct invocations (EventBridge rule, Logs subscription, SNS): a failure fails the call.
    delivered = [notifier.send(incoming)
                 for incoming in from_direct_event(event, config.region)]
    metrics.add_metric(name="NoticesDelivered", unit=MetricUnit.Count, value=len(delivered))
    return {"delivered": delivered}
