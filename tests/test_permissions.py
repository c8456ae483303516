"""Permissions are code: each automation's declared calls (functions/<automation>/permissions.py)
are granted by its role in template.yaml and, where it acts in member accounts, by the member
role; the code names no operation it has not declared; every call made in the suite is declared
(tests/conftest.py checks that after each test).

Statements under `!If` count as granted: they are the parameters' to turn on.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from opskit.permissions import LAYER
from tests.iam_roles import (
    allows,
    denied_on_resource,
    denied_tag_write,
    function_role,
    member_role,
    permissions_of,
    prefix_of,
)
from tests.lambda_env import local_functions
from tools.member_role import MEMBER_AUTOMATIONS

ROOT = Path(__file__).resolve().parent.parent
AUTOMATIONS = sorted(f.automation for f in local_functions())
IN_MEMBERS = sorted(a for a in AUTOMATIONS if prefix_of(a) in MEMBER_AUTOMATIONS)
SERVICES = ("application-autoscaling", "autoscaling", "cloudwatch", "dynamodb", "ec2", "ecs",
            "elbv2", "iam", "kms", "lambda", "logs", "organizations", "rds", "redshift",
            "resourcegroupstaggingapi", "s3", "s3control", "secretsmanager", "sns", "sqs", "ssm",
            "sts")


@pytest.mark.parametrize("automation", AUTOMATIONS)
def test_the_role_grants_every_declared_action(automation: str) -> None:
    missing = sorted(a for a in permissions_of(automation).actions()
                     if not allows(function_role(automation), a))
    assert missing == []


@pytest.mark.parametrize("automation", IN_MEMBERS)
def test_the_member_role_grants_every_action_made_in_member_accounts(automation: str) -> None:
    missing = sorted(a for a in permissions_of(automation).actions(member=True)
                     if not allows(member_role(automation), a))
    assert missing == []


@cache
def _operations_by_name() -> dict[str, set[tuple[str, str]]]:
    session = botocore.session.get_session()
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for service in SERVICES:
        for operation in session.get_service_model(service).operation_names:
            found[xform_name(operation)].add((service, operation))
    return found


def named_operations(folder: Path) -> dict[str, set[tuple[str, str]]]:
    """Every boto3 method the code names: called, paginated, or given by name to be called."""
    by_name = _operations_by_name()
    named: dict[str, set[tuple[str, str]]] = {}
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            name = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = node.func.attr
                if name in {"get_paginator", "can_paginate"} and node.args and isinstance(
                        node.args[0], ast.Constant):
                    name = node.args[0].value
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                name = node.value
            if isinstance(name, str) and name in by_name:
                named[name] = by_name[name]
    return named


@pytest.mark.parametrize("automation", AUTOMATIONS)
def test_the_code_names_only_declared_operations(automation: str) -> None:
    declared = permissions_of(automation).operations()
    undeclared = sorted(name for name, candidates in
                        named_operations(ROOT / "functions" / automation).items()
                        if not candidates & declared)
    assert undeclared == []


def test_the_layer_names_only_declared_operations() -> None:
    undeclared = sorted(name for name, candidates in
                        named_operations(ROOT / "shared_layer" / "opskit").items()
                        if not candidates & LAYER.operations())
    assert undeclared == []


def test_removing_a_statement_is_caught() -> None:
    """The check itself: the scheduler's role without its StartStopEc2 statement misses actions."""
    without = tuple(s for s in function_role("instance_scheduler")
                    if s.get("Sid") != "StartStopEc2")
    declared = permissions_of("instance_scheduler").actions()
    assert {"ec2:StartInstances", "ec2:StopInstances"} <= {
        a for a in declared if not allows(without, a)}


@pytest.mark.parametrize("automation", IN_MEMBERS)
def test_the_member_role_grants_nothing_only_the_home_account_does(automation: str) -> None:
    """Exports, reports, dispatch and role assumption happen in the stack's account only."""
    declared = permissions_of(automation)
    home_only = {action for key in declared.home_only
                 for action in declared.actions_for(*key.split(":"))
                 if action not in declared.actions(member=True)}
    granted = sorted(a for a in home_only if allows(member_role(automation), a))
    assert granted == []


@pytest.mark.parametrize(("automation", "action", "keys", "refused"), [
    ("auto_tagger", "ec2:CreateTags", {"opskit:creator", "opskit:created-at"}, False),
    ("auto_tagger", "ec2:CreateTags", {"opskit:creator", "opskit:exempt"}, True),
    ("auto_tagger", "iam:TagUser", {"opskit:public-access"}, True),
    ("auto_tagger", "ec2:CreateTags", set(), True),  # the Null guard
    ("instance_scheduler", "ec2:DeleteTags", {"ScheduleOverride"}, False),
    ("instance_scheduler", "ec2:DeleteTags", {"Owner"}, True),
    ("instance_scheduler", "autoscaling:CreateOrUpdateTags", {"opskit:saved-capacity"}, False),
    ("resource_cleanup", "ec2:CreateTags", {"opskit:cleanup-after"}, False),
    ("resource_cleanup", "logs:UntagResource", {"opskit:exempt"}, True),
    ("access_key_auditor", "iam:TagUser", {"opskit:key-deactivated:AKIAEXAMPLE"}, False),
    ("access_key_auditor", "iam:TagUser", {"opskit:iam-user"}, True),
    ("rds_backup", "rds:AddTagsToResource", {"opskit:managed-by", "opskit:source"}, False),
    ("rds_backup", "rds:AddTagsToResource", {"Environment"}, True),
    ("self_healing", "ecs:TagResource", {"opskit:healed-at"}, False),
])
def test_tag_writes_are_judged_by_the_keys_they_name(automation: str, action: str,
                                                     keys: set[str], refused: bool) -> None:
    """What the suite applies to every recorded tag write (tests/conftest.py)."""
    assert (denied_tag_write(function_role(automation), action, frozenset(keys))
            is not None) is refused


INSTANCE = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc"
VOLUME = "arn:aws:ec2:eu-west-1:123456789012:volume/vol-0abc"


@pytest.mark.parametrize(("automation", "action", "arn", "tags", "refused"), [
    ("instance_scheduler", "ec2:StopInstances", INSTANCE, {"Schedule": "office-hours"}, False),
    ("instance_scheduler", "ec2:StopInstances", INSTANCE, {"opskit:exempt": "TRUE"}, True),
    ("self_healing", "ec2:RebootInstances", INSTANCE, {"opskit:exempt": "yes"}, True),
    ("self_healing", "ec2:RebootInstances", INSTANCE, {"opskit:exempt": "false"}, False),
    ("resource_cleanup", "ec2:DeleteVolume", VOLUME, {"opskit:cleanup-after": "2026-12-01"},
     False),
    ("resource_cleanup", "ec2:DeleteVolume", VOLUME, {}, True),  # never an unmarked volume
    ("resource_cleanup", "ec2:CreateSnapshot", VOLUME, {}, True),
    ("resource_cleanup", "ec2:DeleteVolume", VOLUME,
     {"opskit:cleanup-after": "2026-12-01", "opskit:exempt": "1"}, True),
])
def test_ec2_calls_are_judged_with_the_resources_tags(
        automation: str, action: str, arn: str, tags: dict[str, str], refused: bool) -> None:
    """What the suite applies to every recorded EC2 call (tests/conftest.py): the statements'
    resources, their resource-tag conditions and the exemption policy, with the real tags."""
    assert (denied_on_resource(function_role(automation), action, arn, tags)
            is not None) is refused


SNAPSHOT = "arn:aws:rds:eu-west-1:123456789012:snapshot:opskit-orders-2026-12-01"
OTHER_SNAPSHOT = "arn:aws:rds:eu-west-1:123456789012:snapshot:nightly-orders"
USER = "arn:aws:iam::123456789012:user/ci-deployer"
GROUP = ("arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:unknown:"
         "autoScalingGroupName/web")
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:opskit/iam/ci-deployer-AbCdEf"
OURS = {"opskit:managed-by": "opskit-rds-backup"}


@pytest.mark.parametrize(("automation", "action", "arn", "tags", "refused"), [
    ("rds_backup", "rds:DeleteDBSnapshot", SNAPSHOT, OURS, False),
    ("rds_backup", "rds:DeleteDBSnapshot", SNAPSHOT, {}, True),  # named ours, not tagged ours
    ("rds_backup", "rds:DeleteDBSnapshot", OTHER_SNAPSHOT, OURS, True),  # tagged, not named
    ("rds_backup", "rds:DeleteDBSnapshot", SNAPSHOT, {**OURS, "opskit:exempt": "true"}, True),
    ("access_key_rotation", "secretsmanager:PutSecretValue", SECRET,
     {"opskit:iam-user": "ci-deployer"}, False),
    ("access_key_rotation", "secretsmanager:PutSecretValue", SECRET, {}, True),
    ("access_key_auditor", "iam:UpdateAccessKey", USER, {}, False),
    ("access_key_auditor", "iam:UpdateAccessKey", USER, {"opskit:exempt": "true"}, True),
    ("instance_scheduler", "autoscaling:UpdateAutoScalingGroup", GROUP, {"Schedule": "x"}, False),
    ("instance_scheduler", "autoscaling:UpdateAutoScalingGroup", GROUP,
     {"opskit:exempt": "true"}, True),
])
def test_other_services_calls_are_judged_with_the_resources_tags(
        automation: str, action: str, arn: str, tags: dict[str, str], refused: bool) -> None:
    """The same judgement for RDS, IAM users, Auto Scaling groups and secrets, whose
    service-specific tag keys (rds:snapshot-tag/..., secretsmanager:ResourceTag/...) count."""
    assert (denied_on_resource(function_role(automation), action, arn, tags)
            is not None) is refused


def test_the_recorder_reads_the_tags_a_resource_carries_when_called(aws: None) -> None:
    """What the suite judges: the resources a call names, with moto's tags at that moment."""
    import boto3

    from tests.iam_roles import resources_named

    rds = boto3.client("rds", region_name="eu-west-1")
    rds.create_db_instance(DBInstanceIdentifier="orders", Engine="postgres",
                           DBInstanceClass="db.t3.micro", MasterUsername="admin",
                           MasterUserPassword="not-a-real-one-1", AllocatedStorage=20)
    rds.create_db_snapshot(DBInstanceIdentifier="orders", DBSnapshotIdentifier="opskit-orders-1",
                           Tags=[{"Key": "opskit:managed-by", "Value": "opskit-rds-backup"}])
    iam = boto3.client("iam")
    iam.create_user(UserName="ci-deployer", Tags=[{"Key": "opskit:exempt", "Value": "true"}])

    named = resources_named("rds", "eu-west-1", {"DBSnapshotIdentifier": "opskit-orders-1",
                                                 "DBInstanceIdentifier": "orders"})
    assert named == [("arn:aws:rds:eu-west-1:123456789012:db:orders", {}),
                     ("arn:aws:rds:eu-west-1:123456789012:snapshot:opskit-orders-1",
                      {"opskit:managed-by": "opskit-rds-backup"})]
    assert resources_named("iam", "eu-west-1", {"UserName": "ci-deployer"}) == [
        ("arn:aws:iam::123456789012:user/ci-deployer", {"opskit:exempt": "true"})]
    assert resources_named("rds", "eu-west-1", {
        "ResourceName": "arn:aws:rds:eu-west-1:123456789012:snapshot:opskit-orders-1"}) == [
        ("arn:aws:rds:eu-west-1:123456789012:snapshot:opskit-orders-1",
         {"opskit:managed-by": "opskit-rds-backup"})]
