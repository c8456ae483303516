"""Who made a call: the creator ARN and a readable principal, for every CloudTrail identity type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_SERVICE_LINKED_ROLE_PREFIX = "AWSServiceRoleFor"


@dataclass(frozen=True, slots=True)
class Creator:
    arn: str
    principal: str
    kind: str


def creator_of(identity: Mapping[str, Any]) -> Creator:
    kind = str(identity.get("type") or "Unknown")
    arn = str(identity.get("arn") or "")
    if kind == "IAMUser":
        return Creator(arn, str(identity.get("userName") or arn.rsplit("/", 1)[-1]), kind)
    if kind == "AssumedRole":
        # arn:aws:sts::<acct>:assumed-role/<role>/<session>: the session names the person or job
        # (for IAM Identity Center, the user's e-mail or user name).
        parts = arn.split("/")
        if len(parts) >= 3 and parts[1].startswith(_SERVICE_LINKED_ROLE_PREFIX):
            # A service acting through its service-linked role (e.g. Auto Scaling launching).
            return Creator(arn, str(identity.get("invokedBy") or parts[1]), "AWSService")
        return Creator(arn, parts[-1] if len(parts) >= 3 else arn, kind)
    if kind == "FederatedUser":
        principal = arn.rsplit("/", 1)[-1] if "/" in arn else str(identity.get("principalId"))
        return Creator(arn, principal, kind)
    if kind == "Root":
        return Creator(arn, "root", kind)
    if kind == "AWSService":
        service = str(identity.get("invokedBy") or "aws-service")
        return Creator(service, service, kind)
    return Creator(arn or "unknown", str(identity.get("principalId") or "unknown"), kind)
