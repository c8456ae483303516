"""member-role.yaml is current (written by tools/member_role.py) and grants what it should."""

from __future__ import annotations

import json

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
