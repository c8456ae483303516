"""A bucket's live state -> what makes it public -> the exact changes that close it (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from opskit.actions import Action
from opskit.tags import enum_tag
from s3_public_remediation.access import (
    BUCKET_OWNER_ENFORCED,
    BlockPublicAccess,
    PublicGrant,
    public_grants,
    without_public,
)
from s3_public_remediation.policy import PolicyAnalysis, analyse, describe
from s3_public_remediation.settings import Mode, S3Config

RESOURCE_TYPE = "s3:bucket"
BLOCK = "block-public-access"
STRIP_ACL = "remove-public-acl-grants"
STRIP_POLICY = "remove-public-policy-statements"
REPORT = "report-public-bucket"
CHANGES = frozenset({BLOCK, STRIP_ACL, STRIP_POLICY})


@dataclass(frozen=True, slots=True)
class BucketState:
    """What was read of one bucket. `acl` and `policy` are None when not read (already
    neutralised by Block Public Access) or absent."""

    name: str
    account_block: BlockPublicAccess
    bucket_block: BlockPublicAccess
    acl: Mapping[str, Any] | None = None
    policy: str | None = None

    @property
    def effective_block(self) -> BlockPublicAccess:
        return self.account_block.combined(self.bucket_block)


@dataclass(frozen=True, slots=True)
class Findings:
    grants: tuple[PublicGrant, ...] = ()
    policy: PolicyAnalysis | None = None
    reasons: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.reasons)


def find(state: BucketState) -> Findings:
    """The public grants and statements in effect. Raises PolicyError for an unreadable policy."""
    effective = state.effective_block
    grants: tuple[PublicGrant, ...] = ()
    if state.acl is not None and not effective.ignore_public_acls:
        grants = tuple(public_grants(state.acl.get("Grants") or []))
    analysis = None
    if state.policy is not None and not effective.restrict_public_buckets:
        analysis = analyse(state.policy)
    reasons = [grant.reason for grant in grants]
    if analysis is not None and analysis.public:
        reasons.append(f"policy {describe(analysis.public)}")
    return Findings(grants, analysis if analysis and analysis.public else None, tuple(reasons))


def mode_of(bucket: str, tags: Mapping[str, str], config: S3Config) -> Mode:
    """The bucket's mode; ValueError naming the tag when its value is not a mode."""
    if config.allow_listed(bucket):
        return Mode.ALLOW
    return enum_tag(tags, config.mode_tag_key, Mode, config.default_mode)


# The S3 calls a remediation makes, and nothing else (remediation._apply names each).
S3Call = Literal["put_bucket_acl", "put_bucket_policy", "delete_bucket_policy",
                 "put_public_access_block"]


@dataclass(frozen=True, slots=True)
class Change:
    """One change and the call that makes it (kept out of the report: details say what)."""

    action: Action
    call: S3Call
    params: Mapping[str, Any]


def changes(state: BucketState, findings: Findings, tags: Mapping[str, str],
            ownership: str | None) -> list[Change]:
    """Strip the public ACL grants and policy statements, then turn on all of Block Public
    Access (last: its BlockPublicPolicy would refuse a policy S3 judges stricter than we do)."""
    reason = "; ".join(findings.reasons)
    planned: list[Change] = []

    def change(action: str, details: dict[str, Any], call: S3Call, **params: Any) -> None:
        planned.append(Change(Action(state.name, RESOURCE_TYPE, action, reason, details, tags),
                              call, params))

    if findings.grants and state.acl is not None and ownership != BUCKET_OWNER_ENFORCED:
        kept = without_public(state.acl.get("Grants") or [])
        change(STRIP_ACL,
               {"removed_grants": [dict(g.grant) for g in findings.grants],
                "kept_grants": len(kept)},
               "put_bucket_acl",
               AccessControlPolicy={"Grants": kept, "Owner": state.acl.get("Owner", {})})
    if findings.policy is not None:
        remaining = findings.policy.without_public()
        removed = [dict(finding.statement) for finding in findings.policy.public]
        details: dict[str, Any] = {"removed_statements": removed,
                                   "kept_statements": len(findings.policy.statements)
                                   - len(removed)}
        if remaining is None:
            header = {k: v for k, v in findings.policy.document.items() if k != "Statement"}
            change(STRIP_POLICY, {**details, "policy": "deleted (no statement left)",
                                  "policy_header": header}, "delete_bucket_policy")
        else:
            change(STRIP_POLICY, details, "put_bucket_policy",
                   Policy=json.dumps(remaining, separators=(",", ":")))
    if not state.bucket_block.is_all_on:
        change(BLOCK, {"before": state.bucket_block.to_api(),
                       "after": BlockPublicAccess.all_on().to_api()},
               "put_public_access_block",
               PublicAccessBlockConfiguration=BlockPublicAccess.all_on().to_api())
    return planned


def report_only(state: BucketState, findings: Findings, tags: Mapping[str, str],
                why: str) -> Action:
    details: dict[str, Any] = {"mode": why, "block_public_access": state.bucket_block.to_api()}
    if findings.grants:
        details["public_grants"] = [dict(g.grant) for g in findings.grants]
    if findings.policy is not None:
        details["public_statements"] = [dict(f.statement) for f in findings.policy.public]
    return Action(state.name, RESOURCE_TYPE, REPORT, "; ".join(findings.reasons), details, tags)
