"""Builders for notifier tests: the webhook secret in moto and SQS/SNS-shaped events."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import responses

DEFAULT_URL = "https://hooks.slack.com/services/T0AAAA/B0DEFAULT/defaultsecretvalue"
SECURITY_URL = "https://hooks.slack.com/services/T0AAAA/B0SECURITY/securitysecretvalue"
TEAMS_URL = ("https://prod-27.westeurope.logic.azure.com:443/workflows/0f3c2a9e8b7d4c1aa5e6f7081920a1b2"
             "/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun"
             "&sv=1.0&sig=teamssignaturevalue")
TEAMS_SECURITY_URL = TEAMS_URL.replace("0f3c2a9e8b7d4c1aa5e6f7081920a1b2",
                                       "5e4d3c2b1a0948f7a6b5c4d3e2f1a0b9")
SECRET_NAME = "opskit/slack-webhooks"
# Time the fake clock spent in `time.sleep` (the delivery retries' waits).
slept: list[float] = []


def post_through_requests() -> Callable[..., Any]:
    """A `WebhookSession.post` that sends the very same bytes through `requests`, where
    `responses` answers (the notifier's own transport is urllib3)."""
    import requests

    from slack_notifier.delivery import WebhookSession, encode_json

    session = requests.Session()

    def post(_self: WebhookSession, url: str, *, json: Any,
             timeout: tuple[float, float]) -> requests.Response:
        return session.post(url, data=encode_json(json), timeout=timeout,
                            headers={"Content-Type": "application/json"})

    return post


def sent() -> list[tuple[str, dict[str, Any]]]:
    """Every webhook request so far: (URL, JSON body)."""
    return [(call.request.url, json.loads(call.request.body or "{}"))
            for call in responses.calls]  # type: ignore[union-attr]


def create_webhook_secret(value: str | dict[str, Any] | None = None) -> None:
    secret = value if value is not None else {"default": DEFAULT_URL, "security": SECURITY_URL}
    boto3.client("secretsmanager").create_secret(
        Name=SECRET_NAME, SecretString=secret if isinstance(secret, str) else json.dumps(secret))


def sns_envelope(message: Any, subject: str | None = None) -> str:
    envelope = {"Type": "Notification", "MessageId": "5a1c0e7e-0000-4000-8000-000000000001",
                "TopicArn": "arn:aws:sns:eu-west-1:123456789012:opskit-AlertTopic",
                "Message": message if isinstance(message, str) else json.dumps(message),
                "Timestamp": "2026-11-23T10:00:00.000Z"}
    if subject:
        envelope["Subject"] = subject
    return json.dumps(envelope)


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [
        {"messageId": f"msg-{index}", "receiptHandle": f"handle-{index}", "body": body,
         "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
         "md5OfBody": "", "eventSource": "aws:sqs",
         "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:opskit-SlackQueue",
         "awsRegion": "eu-west-1"} for index, body in enumerate(bodies)]}


ALARM = {"AlarmName": "orders-api-5xx", "AlarmDescription": "5xx above 1%",
         "AWSAccountId": "123456789012", "NewStateValue": "ALARM", "OldStateValue": "OK",
         "NewStateReason": "Threshold Crossed", "StateChangeTime": "2026-11-23T10:00:00.000+0000",
         "Region": "EU (Ireland)",
         "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:orders-api-5xx",
         "Trigger": {"MetricName": "5XXError", "Namespace": "AWS/ApiGateway",
                     "Statistic": "SUM", "Dimensions": [{"value": "orders", "name": "ApiName"}],
                     "Period": 60, "EvaluationPeriods": 1,
                     "ComparisonOperator": "GreaterThanThreshold", "Threshold": 5.0}}
GUARDDUTY = {"version": "0", "id": "e7c1", "detail-type": "GuardDuty Finding",
             "source": "aws.guardduty", "account": "123456789012",
             "time": "2026-11-23T10:00:00Z", "region": "eu-west-1", "resources": [],
             "detail": {"id": "f0c1", "type": "Recon:EC2/PortProbeUnprotectedPort",
                        "severity": 8, "title": "Port probe", "description": "Probe on 22",
                        "resource": {"resourceType": "Instance"}}}
