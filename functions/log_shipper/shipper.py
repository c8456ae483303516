"""One delivery shipped: checked, parsed, written to S3 and, when configured, to OpenSearch.

Everything is built before the first write; a write that fails fails the invocation, so that
CloudWatch Logs' asynchronous invocation is retried (then kept in the dead-letter queue): the
retry writes the same S3 keys and the same OpenSearch ids, so nothing is duplicated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from log_shipper.opensearch import DestinationError, Post, send_bulk, send_poison
from log_shipper.parsing import parse_delivery
from log_shipper.payload import Delivery, read_delivery
from log_shipper.settings import ShipperConfig
from log_shipper.writer import build_objects, write_objects
from opskit.events import EventError
from opskit.observability import logger, metrics

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class Destinations:
    s3: S3Client
    bulk: Post | None = None  # OpenSearch's bulk API, when configured
    sqs: SQSClient | None = None  # the poison queue's client


def accept(event: dict[str, Any], home_account: str) -> Delivery:
    """The delivery, refused (EventError) unless it is well formed and from this function's own
    account (CloudWatch Logs may invoke it for this account's log groups only)."""
    delivery = read_delivery(event)
    if not delivery.is_control and delivery.owner != home_account:
        raise EventError("owner", delivery.owner, f"this function's account ({home_account})")
    return delivery


def ship(delivery: Delivery, config: ShipperConfig, destinations: Destinations,
         sleep: Callable[[float], None] | None = None) -> dict[str, Any]:
    if delivery.is_control:
        logger.info("control message acknowledged", extra={"log_group": delivery.log_group})
        return {"delivered": True, "control_message": True, "events": 0, "objects": []}
    records = parse_delivery(delivery, config.common.home_region, config.masks)
    objects = build_objects(config.prefix, delivery, records) if records else {}
    written = write_objects(destinations.s3, config.bucket, config.kms_key_arn, objects,
                            delivery)
    indexed = poisoned = 0
    if destinations.bulk is not None and records:
        result = send_bulk(destinations.bulk, records, config.opensearch_index_prefix, sleep)
        indexed = result.indexed
        if result.poisoned:
            if destinations.sqs is None or config.poison_queue_url is None:
                raise DestinationError(f"{len(result.poisoned)} records refused by OpenSearch "
                                       f"and no POISON_QUEUE_URL to keep them")
            poisoned = send_poison(destinations.sqs, config.poison_queue_url, result.poisoned)
            logger.warning("records refused by OpenSearch kept in the poison queue",
                           extra={"records": poisoned, "reason": result.poisoned[0][1]})
    metrics.add_metric(name="EventsShipped", unit=MetricUnit.Count, value=len(records))
    metrics.add_metric(name="ObjectsWritten", unit=MetricUnit.Count, value=len(written))
    if destinations.bulk is not None:
        metrics.add_metric(name="EventsIndexed", unit=MetricUnit.Count, value=indexed)
        metrics.add_metric(name="EventsPoisoned", unit=MetricUnit.Count, value=poisoned)
    logger.info("delivery shipped", extra={
        "log_group": delivery.log_group, "log_stream": delivery.log_stream,
        "events": len(records), "objects": [w.key for w in written], "indexed": indexed,
        "poisoned": poisoned})
    return {"delivered": True, "log_group": delivery.log_group, "events": len(records),
            "objects": [w.key for w in written], "indexed": indexed, "poisoned": poisoned}
