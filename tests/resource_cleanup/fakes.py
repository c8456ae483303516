"""Where moto differs from AWS in what the cleanup relies on, the AWS behaviour:

- DescribeImages leaves disabled AMIs out unless IncludeDisabled is true (moto lists them);
- CloudTrail's LookupEvents answers from the events a test records (moto does not have it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.responses import ActionResult
from moto.ec2.responses.amis import AmisResponse


@dataclass
class EventHistory:
    """CloudTrail's event history of a test: management events by region."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def record(self, name: str, request: dict[str, Any], *, region: str = "eu-west-1",
               when: datetime | None = None) -> None:
        at = when or datetime.now(UTC)
        self.events.append({
            "region": region, "EventName": name, "EventTime": at.timestamp(),
            "EventId": f"event-{len(self.events)}", "EventSource": "ec2.amazonaws.com",
            "CloudTrailEvent": json.dumps({"eventName": name, "awsRegion": region,
                                           "eventTime": at.isoformat(),
                                           "requestParameters": request})})

    def lookup(self, region: str, name: str | None, start: float | None) -> list[dict[str, Any]]:
        return [{k: v for k, v in e.items() if k != "region"} for e in self.events
                if e["region"] == region and (name is None or e["EventName"] == name)
                and (start is None or e["EventTime"] >= start)]


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return float(value)
    except (TypeError, ValueError):
        return datetime.fromisoformat(str(value)).timestamp()


@contextmanager
def aws_behaviour(history: EventHistory) -> Iterator[None]:
    describe_images: Callable[[AmisResponse], Any] = AmisResponse.describe_images

    def images(self: AmisResponse) -> Any:
        result = describe_images(self)
        if self._get_bool_param("IncludeDisabled", False):
            return result
        listed = result.result["Images"]  # type: ignore[index]
        return ActionResult({"Images": [i for i in listed if i.state != "disabled"]})

    def lookup_events(self: CloudTrailResponse) -> str:
        attributes = self._get_param("LookupAttributes", []) or []
        name = next((a["AttributeValue"] for a in attributes
                     if a["AttributeKey"] == "EventName"), None)
        return json.dumps({"Events": history.lookup(self.region, name,
                                                    _seconds(self._get_param("StartTime")))})

    AmisResponse.describe_images = images  # type: ignore[method-assign]
    CloudTrailResponse.lookup_events = lookup_events  # type: ignore[attr-defined]
    try:
        yield
    finally:
        AmisResponse.describe_images = describe_images  # type: ignore[method-assign]
        del CloudTrailResponse.lookup_events  # type: ignore[attr-defined]
