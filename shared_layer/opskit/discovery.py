"""Targets beyond explicit lists: every active account of the organization (or of some OUs)
and every region enabled in the account."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_organizations import OrganizationsClient

ORGANIZATION = "organization"  # TARGET_ACCOUNTS: every active account of the organization
ALL_REGIONS = "all"  # TARGET_REGIONS: every region enabled in the account
_PARENT = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$")


def is_parent_id(value: str) -> bool:
    """An organizational unit (ou-...) or the organization's root (r-...)."""
    return _PARENT.fullmatch(value) is not None


def _active(account: Mapping[str, Any]) -> bool:
    """`State` (newer) or `Status` (retired in 2026) says ACTIVE; an account saying neither is
    left out rather than acted on."""
    return (account.get("State") or account.get("Status")) == "ACTIVE"


def organization_accounts(org: OrganizationsClient) -> list[str]:
    accounts: list[str] = []
    for page in org.get_paginator("list_accounts").paginate():
        accounts.extend(a["Id"] for a in page.get("Accounts", []) if _active(a))
    return sorted(accounts)


def accounts_under(org: OrganizationsClient, parents: Iterable[str]) -> list[str]:
    """Active accounts in the given OUs or root, and in every OU below them."""
    found: set[str] = set()
    pending = list(parents)
    while pending:
        parent = pending.pop()
        for page in org.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
            found.update(a["Id"] for a in page.get("Accounts", []) if _active(a))
        for units in org.get_paginator("list_organizational_units_for_parent").paginate(
                ParentId=parent):
            pending.extend(ou["Id"] for ou in units.get("OrganizationalUnits", []))
    return sorted(found)


def enabled_regions(ec2: EC2Client) -> list[str]:
    """Regions enabled in the account (opt-in regions only once opted in)."""
    regions = ec2.describe_regions(AllRegions=False).get("Regions", [])
    return sorted(r["RegionName"] for r in regions
                  if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in")
