"""`opskit permissions`: what an automation's permissions.py declares, as calls and as IAM."""

from __future__ import annotations

import json

from instance_scheduler.permissions import PERMISSIONS
from tests.cli.conftest import Opskit


def test_each_call_and_its_iam_actions(opskit: Opskit) -> None:
    ran = opskit("permissions", "instance_scheduler")
    assert ran.status == 0
    assert "ec2.StartInstances" in ran.out
    assert "ec2:StartInstances, kms:CreateGrant" in ran.out
    line = next(line for line in ran.out.splitlines() if "sns.Publish" in line)
    assert line.endswith("[home account only]")


def test_json_is_a_policy_with_every_declared_action(opskit: Opskit) -> None:
    ran = opskit("permissions", "instance_scheduler", "--json")
    assert ran.status == 0
    document = json.loads(ran.out)
    assert document["Version"] == "2012-10-17"
    actions = {action for statement in document["Statement"] for action in statement["Action"]}
    assert actions == PERMISSIONS.actions()
    assert all(statement["Effect"] == "Allow" for statement in document["Statement"])


def test_member_leaves_out_what_only_the_home_account_needs(opskit: Opskit) -> None:
    ran = opskit("permissions", "instance_scheduler", "--json", "--member")
    actions = {action for statement in json.loads(ran.out)["Statement"]
               for action in statement["Action"]}
    assert actions == PERMISSIONS.actions(member=True)
    assert "sns:Publish" not in actions
    assert "ec2:StopInstances" in actions
