"""`opskit permissions`: the IAM statements an automation needs, from its permissions.py."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from opskit_cli import catalog


def policy_document(automation: str, *, member: bool = False) -> dict[str, Any]:
    """An IAM policy with one statement per service prefix; with `member`, only what a member
    account's role needs (the stack's own resources are used from the home account only)."""
    permissions = catalog.permissions_of(automation)
    by_prefix: dict[str, set[str]] = defaultdict(set)
    for action in permissions.actions(member=member):
        by_prefix[action.split(":")[0]].add(action)
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "".join(part.capitalize() for part in prefix.replace("-", "_").split("_")),
         "Effect": "Allow", "Action": sorted(actions), "Resource": "*"}
        for prefix, actions in sorted(by_prefix.items())]}


def describe_permissions(automation: str) -> str:
    """Each call the automation makes and the IAM actions it is authorized as."""
    permissions = catalog.permissions_of(automation)
    lines = [f"{automation}: the AWS calls it makes and the IAM actions they need "
             f"(functions/{automation}/permissions.py)", ""]
    width = max(len(f"{s}.{o}") for s, o in permissions.operations())
    for service, operation in sorted(permissions.operations()):
        call = f"{service}.{operation}"
        actions = ", ".join(permissions.actions_for(service, operation)) or "(none: always "\
                                                                            "allowed)"
        where = "  [home account only]" if call.replace(".", ":") in permissions.home_only \
            else ""
        lines.append(f"  {call:<{width}}  {actions}{where}")
    lines.extend(["", "As an IAM policy: opskit permissions --json " + automation,
                  "Resources are scoped in the function's role (its template.yaml); \"*\" here "
                  "means every resource the role allows."])
    return "\n".join(lines)
