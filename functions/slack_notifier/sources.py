"""What the function receives (SQS from the alert topic, SNS, EventBridge, CloudWatch Logs)
turned into Incoming messages. Bad input never raises: it becomes a readable message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opskit.logs_payload import MAX_DECOMPRESSED_BYTES
from opskit.logs_payload import decode_logs_data as decode_payload
from opskit.observability import logger
from slack_notifier.console_links import valid_region
from slack_notifier.renderers import Incoming


def _parse_json(text: str) -> Any:
    """JSON when it is JSON; anything else (not JSON, nested too deeply for the parser, an
    integer past Python's digit limit) stays the text it was."""
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return text


def from_sns_envelope(envelope: Mapping[str, Any], region: str | None) -> Incoming:
    raw = envelope.get("MessageAttributes")
    attributes = {str(name): str(value.get("Value") or "") for name, value in
                  (raw.items() if isinstance(raw, dict) else ()) if isinstance(value, dict)}
    topic_arn = str(envelope.get("TopicArn", "")).split(":")
    topic_region = topic_arn[3] if len(topic_arn) > 4 else ""
    subject = envelope.get("Subject")
    return Incoming(payload=_parse_json(str(envelope.get("Message", ""))),
                    subject=str(subject) if subject else None,
                    region=valid_region(topic_region) or valid_region(region),
                    attributes=attributes)


def from_sqs_body(body: str, region: str | None) -> Incoming:
    """An SQS body: an SNS envelope (the default), or the message itself (raw delivery)."""
    parsed = _parse_json(body)
    if isinstance(parsed, dict) and parsed.get("Type") == "Notification" and "Message" in parsed:
        return from_sns_envelope(parsed, region)
    if isinstance(parsed, str):
        logger.warning("message is not JSON: shown as text", extra={"length": len(body)})
    return Incoming(payload=parsed, region=valid_region(region))


# What a subscription payload may expand to (opskit/logs_payload.py decodes it).
LOGS_MAX_DECOMPRESSED = MAX_DECOMPRESSED_BYTES


def decode_logs_data(event: Mapping[str, Any]) -> Any:
    """`awslogs.data` as CloudWatch Logs sends it to a subscription: base64 of gzip of JSON."""
    return decode_payload(event, LOGS_MAX_DECOMPRESSED)


def from_logs_event(event: Mapping[str, Any], region: str) -> Incoming:
    try:
        payload: Any = decode_logs_data(event)
    except Exception as exc:
        logger.warning("CloudWatch Logs payload could not be decoded", extra={"error": repr(exc)})
        payload = f"(undecodable CloudWatch Logs payload: {type(exc).__name__})"
    return Incoming(payload=payload, region=region)


def from_direct_event(event: Any, region: str) -> list[Incoming]:
    """Events that invoke the function directly (not through SQS)."""
    if isinstance(event, dict):
        if isinstance(event.get("awslogs"), dict):
            return [from_logs_event(event, region)]
        records = event.get("Records")
        if isinstance(records, list) and records and all(
                isinstance(r, dict) and isinstance(r.get("Sns"), dict) for r in records):
            return [from_sns_envelope(r["Sns"], region) for r in records]
    return [Incoming(payload=event, region=region)]


def is_sqs_batch(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return isinstance(records, list) and bool(records) and all(
        isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)
