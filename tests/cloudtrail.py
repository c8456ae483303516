"""CloudTrail-via-EventBridge events built around resources created in moto."""

from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"
ALICE = {"type": "IAMUser", "principalId": "AIDAEXAMPLEALICE0001",
         "arn": f"arn:aws:iam::{ACCOUNT}:user/alice", "accountId": ACCOUNT,
         "accessKeyId": "AKIAEXAMPLEALICE0001", "userName": "alice"}


def api_call(event_name: str, source: str, *, request: dict[str, Any] | None = None,
             response: dict[str, Any] | None = None, identity: dict[str, Any] | None = None,
             region: str = "eu-west-1", **detail: Any) -> dict[str, Any]:
    return {
        "version": "0", "id": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        "detail-type": "AWS API Call via CloudTrail", "source": f"aws.{source}",
        "account": ACCOUNT, "time": "2026-11-23T09:15:02Z", "region": region, "resources": [],
        "detail": {
            "eventVersion": "1.09", "userIdentity": identity or ALICE,
            "eventTime": "2026-11-23T09:15:02Z", "eventSource": f"{source}.amazonaws.com",
            "eventName": event_name, "awsRegion": region, "sourceIPAddress": "203.0.113.10",
            "userAgent": "aws-cli/2.22.0", "requestParameters": request or {},
            "responseElements": response, "requestID": "7f3c2a10-0000-4000-8000-000000000001",
            "eventID": "e1d2c3b4-a596-4877-8a9b-0c1d2e3f4a5b", "readOnly": False,
            "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
            "eventCategory": "Management", **detail,
        },
    }
