"""A CloudTrail record delivered by EventBridge, read into a typed call (or refused clearly)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from opskit.actions import count_outcomes
from opskit.config import CommonConfig, is_account_id, is_region
from opskit.events import EventError, Skip, require_envelope
from opskit.observability import logger


@dataclass(frozen=True, slots=True)
class ApiCall:
    event_id: str
    event_name: str
    event_source: str
    event_time: str
    region: str
    account: str
    identity: Mapping[str, Any]
    request: Mapping[str, Any]
    response: Mapping[str, Any] | None
    error_code: str | None
    read_only: bool

    @property
    def role_name(self) -> str | None:
        """An assumed-role caller's role: arn:aws:sts::<acct>:assumed-role/<role>/<session>."""
        parts = str(self.identity.get("arn", "")).split("/")
        return parts[1] if len(parts) >= 3 and parts[0].endswith(":assumed-role") else None

    @property
    def role_account(self) -> str | None:
        """An assumed-role caller's account (the ARN's account field)."""
        fields = str(self.identity.get("arn", "")).split(":")
        return fields[4] if self.role_name is not None and len(fields) >= 6 else None

    @property
    def ids(self) -> dict[str, str]:
        """What identifies the record in logs."""
        return {"event_name": self.event_name, "event_id": self.event_id}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _where(event: Mapping[str, Any], detail: Mapping[str, Any], field: str, envelope: str, *,
           valid: Callable[[str], bool], expected: str) -> str:
    """The record's account or region: the record's own field, else (older records) the
    envelope's. A value that is not an account id or a region is refused, never used to assume
    a role or make a call."""
    name, value = f"detail.{field}", detail.get(field)
    if value is None or value == "":
        name, value = envelope, event.get(envelope)
    if not isinstance(value, str) or not valid(value):
        raise EventError(name, value, expected)
    return value


def parse_api_call(event: Mapping[str, Any]) -> ApiCall:
    """Raises EventError naming the field when the record lacks what every CloudTrail call has."""
    require_envelope(dict(event))
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise EventError("detail", detail, "a CloudTrail record")
    for field in ("eventName", "eventSource", "eventID", "eventTime"):
        if not isinstance(detail.get(field), str):
            raise EventError(f"detail.{field}", detail.get(field), "a string")
    response = detail.get("responseElements")
    account = _where(event, detail, "recipientAccountId", "account", valid=is_account_id,
                     expected="a 12-digit account id")
    region = _where(event, detail, "awsRegion", "region", valid=is_region,
                    expected="a region such as eu-west-1")
    return ApiCall(
        event_id=detail["eventID"],
        event_name=detail["eventName"],
        event_source=detail["eventSource"],
        event_time=detail["eventTime"],
        region=region,
        account=account,
        identity=_mapping(detail.get("userIdentity")),
        request=_mapping(detail.get("requestParameters")),
        response=response if isinstance(response, dict) else None,
        error_code=detail.get("errorCode") if isinstance(detail.get("errorCode"), str) else None,
        read_only=detail.get("readOnly") is True,
    )


def record_ids(event: Mapping[str, Any]) -> dict[str, Any]:
    """The record's name and id, read leniently (for logging an event that failed to parse)."""
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return {}
    return {"event_name": detail.get("eventName"), "event_id": detail.get("eventID")}


def not_actionable(call: ApiCall, own_role_name: str,
                   own_account: str | None = None) -> str | None:
    """Why a record must be ignored by any automation reacting to changes, or None.

    A failed, dry-run or read-only call changed nothing; a call made by the automation's own role
    is its own remediation (reacting to it would loop). With `own_account`, the role is the one
    of that account only (its full ARN): a role of the same name elsewhere is anyone's.
    """
    if call.error_code is not None:
        return f"the call failed ({call.error_code})"
    if call.request.get("dryRun") is True:
        return "a dry-run call"
    if call.read_only:
        return "a read-only call"
    if call.role_name == own_role_name and own_account in (None, call.role_account):
        return "made by this automation's own role"
    return None


def skipped_event(config: CommonConfig, why: str, ids: Mapping[str, Any]) -> dict[str, Any]:
    """The handler's answer to a record it does not act on (logged, nothing changed)."""
    logger.info("event skipped", extra={"why": why, **ids})
    return {"automation": config.automation, "dry_run": config.dry_run,
            "counts": count_outcomes([]), "skipped": why}


def read_call(event: Mapping[str, Any], *, own_role_name: str, handled: Collection[str],
              unhandled: str, own_account: str | None = None) -> ApiCall:
    """The record to act on. Otherwise `Skip` with the reason: a malformed
    record (logged: raising an error would only make EventBridge deliver it again), a call that
    changed nothing or was the automation's own, or a call the automation does not handle
    (`unhandled` is a sentence about `{name}`)."""
    ids = record_ids(event)
    try:
        call = parse_api_call(event)
    except EventError as exc:
        logger.warning("malformed CloudTrail event", extra={"error": str(exc), **ids})
        raise Skip(f"malformed: {exc}", ids) from None
    why = not_actionable(call, own_role_name, own_account)
    if why is None and call.event_name not in handled:
        why = unhandled.format(name=call.event_name)
    if why is not None:
        raise Skip(why, ids)
    return call


def trigger(call: ApiCall) -> dict[str, Any]:
    """What a report says about the record that caused it."""
    return {"trigger": {"event": call.event_name, "event_id": call.event_id,
                        "time": call.event_time, "by": call.identity.get("arn", "unknown")}}
