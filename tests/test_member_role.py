"""member-role.yaml is current (written by tools/member_role.py) and grants what it should."""

from __future__ import annotations

import json
import re
from typing import Any

from tools.member_role import MEMBER, load, text


def test_member_role_matches_the_template() -> None:
    assert MEMBER.read_text() == text(), "member-role.yaml is not current: run make member-role"


def test_the_member_role_trusts_only_the_opskit_roles_of_the_organization() -> None:
    trust = load(MEMBER)["Resources"]["ExecutionRole"]["Properties"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Condition"]["StringEquals"] == {
        "aws:PrincipalOrgID": {"Ref": "OrganizationId"}}
    assert "aws:PrincipalArn" in statement["Condition"]["ArnLike"]
    for policy in (r for r in load(MEMBER)["Resources"].values()
                   if r["Type"] == "AWS::IAM::RolePolicy"):
        document = policy["Properties"]["PolicyDocument"]
        if "Fn::Sub" in document:  # the exemption: a JSON document with the tag key inside
            document = json.loads(document["Fn::Sub"])
        for entry in document["Statement"]:
            item = entry["Fn::If"][1] if "Fn::If" in entry else entry
            actions = item["Action"] if isinstance(item["Action"], list) else [item["Action"]]
            assert "*" not in actions
            assert not {"sts:AssumeRole", "sns:Publish"} & set(actions)  # home-only


# IAM quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html):
# whitespace does not count.
INLINE_PER_ROLE = 10_240  # all the inline policies of one role together
MANAGED_POLICY = 6_144  # one managed policy
MANAGED_PER_ROLE = 10  # attached to one role (the default quota)


def _resolved(value: Any, parameters: dict[str, str]) -> Any:
    """A value of the template with Fn::Sub, Ref and Fn::If resolved for `parameters` (every
    condition of the member role is true when everything is enabled)."""
    if isinstance(value, list):
        return [_resolved(item, parameters) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]+)\}", lambda m: parameters[m.group(1)], value["Fn::Sub"])
    if "Ref" in value:
        return parameters[value["Ref"]]
    if "Fn::If" in value:
        return _resolved(value["Fn::If"][1], parameters)
    if "Fn::GetAtt" in value:
        return "arn:aws:iam::123456789012:role/OpskitExecutionRole"
    return {key: _resolved(item, parameters) for key, item in value.items()}


def _size(document: Any, parameters: dict[str, str]) -> int:
    resolved = _resolved(document, parameters)
    text = resolved if isinstance(resolved, str) else json.dumps(resolved)
    return len(re.sub(r"\s", "", text))


def test_the_member_role_fits_iams_policy_size_quotas_with_everything_enabled() -> None:
    """With every automation and option on (the worst case), each managed policy, the number
    attached to the role, and the role's inline policies together stay within IAM's quotas."""
    document = load(MEMBER)
    parameters = {name: ("true" if spec.get("AllowedValues") == ["true", "false"]
                         else spec.get("Default") or "x" * 64)
                  for name, spec in document["Parameters"].items()}
    parameters.update({"OpskitAccountId": "123456789012", "OrganizationId": "o-abcdefghij",
                       "AWS::Partition": "aws", "AWS::AccountId": "210987654321",
                       "AWS::Region": "eu-west-1",
                       "RotationFunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:"
                                              + "r" * 64})
    resources = document["Resources"].values()
    inline = [_size(r["Properties"]["PolicyDocument"], parameters) for r in resources
              if r["Type"] == "AWS::IAM::RolePolicy"]
    attached = [_size(r["Properties"]["PolicyDocument"], parameters) for r in resources
                if r["Type"] == "AWS::IAM::ManagedPolicy" and "Roles" in r["Properties"]]
    assert sum(inline) <= INLINE_PER_ROLE
    assert len(attached) <= MANAGED_PER_ROLE
    assert max(attached) <= MANAGED_POLICY
