"""Block Public Access settings and ACL grants: what is public and what neutralises it (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
PUBLIC_GROUPS = {ALL_USERS: "AllUsers", AUTHENTICATED_USERS: "AuthenticatedUsers"}
BUCKET_OWNER_ENFORCED = "BucketOwnerEnforced"


@dataclass(frozen=True, slots=True)
class BlockPublicAccess:
    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False

    @classmethod
    def from_api(cls, config: Mapping[str, Any] | None) -> BlockPublicAccess:
        config = config or {}
        return cls(
            block_public_acls=config.get("BlockPublicAcls") is True,
            ignore_public_acls=config.get("IgnorePublicAcls") is True,
            block_public_policy=config.get("BlockPublicPolicy") is True,
            restrict_public_buckets=config.get("RestrictPublicBuckets") is True,
        )

    @classmethod
    def all_on(cls) -> BlockPublicAccess:
        return cls(True, True, True, True)

    def to_api(self) -> dict[str, bool]:
        return {
            "BlockPublicAcls": self.block_public_acls,
            "IgnorePublicAcls": self.ignore_public_acls,
            "BlockPublicPolicy": self.block_public_policy,
            "RestrictPublicBuckets": self.restrict_public_buckets,
        }

    def combined(self, other: BlockPublicAccess) -> BlockPublicAccess:
        """S3 applies the most restrictive combination of the account and bucket settings."""
        return BlockPublicAccess(
            self.block_public_acls or other.block_public_acls,
            self.ignore_public_acls or other.ignore_public_acls,
            self.block_public_policy or other.block_public_policy,
            self.restrict_public_buckets or other.restrict_public_buckets,
        )

    @property
    def neutralises_everything(self) -> bool:
        """Public ACLs ignored and public policies restricted: nothing can be public."""
        return self.ignore_public_acls and self.restrict_public_buckets

    @property
    def is_all_on(self) -> bool:
        return self == BlockPublicAccess.all_on()


@dataclass(frozen=True, slots=True)
class PublicGrant:
    group: str
    permission: str
    grant: Mapping[str, Any]

    @property
    def reason(self) -> str:
        return f"ACL grants {self.permission} to {self.group}"


def public_grants(grants: Sequence[Mapping[str, Any]]) -> list[PublicGrant]:
    """Grants to AllUsers or AuthenticatedUsers (any AWS account); LogDelivery is not public."""
    found = []
    for grant in grants:
        grantee = grant.get("Grantee") or {}
        group = PUBLIC_GROUPS.get(str(grantee.get("URI", "")))
        if grantee.get("Type") == "Group" and group is not None:
            found.append(PublicGrant(group, str(grant.get("Permission", "?")), grant))
    return found


def without_public(grants: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    public = {id(finding.grant) for finding in public_grants(grants)}
    return [grant for grant in grants if id(grant) not in public]
