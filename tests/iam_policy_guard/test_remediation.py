"""Each remediation on moto: before-state recorded, undo restores it; dry run, exemptions, races."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from iam_policy_guard.guard import (
    check_attachment,
    check_inline,
    check_policy_version,
    check_trust,
)
from iam_policy_guard.inventory import IamReader
from iam_policy_guard.settings import GuardConfig
from opskit.actions import Executor, Status

ACCOUNT = "123456789012"
ADMIN = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
READ = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
EC2_TRUST = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
             "Action": "sts:AssumeRole"}
ANYONE = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}


@pytest.fixture
def iam() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("iam", region_name="us-east-1")


def config(mode: str = "remediate", dry_run: bool = False, **env: str) -> GuardConfig:
    return GuardConfig.from_env({"GUARD_MODE": mode, "DRY_RUN": str(dry_run).lower(),
                                 "AWS_REGION": "us-east-1", **env})


def executor(cfg: GuardConfig) -> Executor:
    return Executor(cfg.common.dry_run, cfg.common.exemption_tag_key)


def role(iam: Any, name: str, *, path: str = "/", tags: dict[str, str] | None = None,
         trust: list[dict[str, Any]] | None = None) -> None:
    iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": trust or [EC2_TRUST]}),
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])


def undo(iam: Any, recorded: dict[str, Any]) -> None:
    """What a person does with a report's `undo`: the call it names, with its params (made by
    the test, not the function: the function's role never needs these writes)."""
    calls = {"set_default_policy_version", "attach_user_policy", "attach_role_policy",
             "detach_role_policy", "detach_user_policy", "put_role_policy", "put_user_policy",
             "update_assume_role_policy"}
    if recorded.get("call") not in calls:
        raise ValueError(f"undo={recorded!r} is invalid: expected one of {sorted(calls)}")
    getattr(iam, recorded["call"])(**recorded["params"])


def only(run: Executor) -> Any:
    (outcome,) = run.outcomes
    return outcome


def test_inline_policy_is_deleted_and_undo_puts_it_back(iam: Any) -> None:
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="oops", PolicyDocument=ADMIN)
    run = executor(config())
    check_inline(IamReader(iam), run, config(), kind="role", name="app", policy_name="oops")
    outcome = only(run)
    assert (outcome.action.action, outcome.status) == ("delete-inline-policy", Status.DONE)
    assert iam.list_role_policies(RoleName="app")["PolicyNames"] == []
    assert outcome.action.details["before"]["document"] == json.loads(ADMIN)
    undo(iam, outcome.action.details["undo"])
    assert iam.get_role_policy(RoleName="app", PolicyName="oops")["PolicyDocument"] == \
        json.loads(ADMIN)


def test_managed_policy_is_detached_and_undo_reattaches(iam: Any) -> None:
    role(iam, "bob")
    admin = iam.create_policy(PolicyName="everything", PolicyDocument=ADMIN)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="bob", PolicyArn=admin)
    run = executor(config())
    check_attachment(IamReader(iam), run, config(), kind="role", name="bob", policy_arn=admin)
    outcome = only(run)
    assert (outcome.action.action, outcome.status) == ("detach-policy", Status.DONE)
    assert iam.list_attached_role_policies(RoleName="bob")["AttachedPolicies"] == []
    undo(iam, outcome.action.details["undo"])
    attached = iam.list_attached_role_policies(RoleName="bob")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [admin]


def test_new_default_version_is_reverted_and_undo_restores_it(iam: Any) -> None:
    arn = iam.create_policy(PolicyName="deploy", PolicyDocument=READ)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ADMIN, SetAsDefault=True)
    run = executor(config())
    check_policy_version(IamReader(iam), run, config(), arn)
    outcome = only(run)
    assert (outcome.action.action, outcome.status) == ("revert-default-version", Status.DONE)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    assert outcome.action.details["before"]["default_version"] == "v2"
    undo(iam, outcome.action.details["undo"])
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"


def test_trust_policy_loses_its_open_statement_and_undo_restores_it(iam: Any) -> None:
    role(iam, "shared", trust=[EC2_TRUST, ANYONE])
    before = iam.get_role(RoleName="shared")["Role"]["AssumeRolePolicyDocument"]
    run = executor(config())
    check_trust(IamReader(iam), run, config(), "shared", ACCOUNT)
    outcome = only(run)
    assert (outcome.action.action, outcome.status) == ("strip-trust-statements", Status.DONE)
    after = iam.get_role(RoleName="shared")["Role"]["AssumeRolePolicyDocument"]
    assert after["Statement"] == [EC2_TRUST]
    undo(iam, outcome.action.details["undo"])
    assert iam.get_role(RoleName="shared")["Role"]["AssumeRolePolicyDocument"] == before


def test_a_trust_policy_with_nothing_safe_left_is_only_reported(iam: Any) -> None:
    role(iam, "open", trust=[ANYONE])
    run = executor(config())
    check_trust(IamReader(iam), run, config(), "open", ACCOUNT)
    outcome = only(run)
    assert outcome.action.action == "report-dangerous-iam"
    assert "no safe trust policy" in outcome.action.details["no_remedy"]


def test_quarantine_attaches_the_deny_all_policy_and_undo_detaches_it(iam: Any) -> None:
    deny = iam.create_policy(PolicyName="opskit-quarantine", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*",
                                                 "Resource": "*"}]}))["Policy"]["Arn"]
    role(iam, "app", tags={"opskit:iam-guard": "quarantine"})
    iam.put_role_policy(RoleName="app", PolicyName="oops", PolicyDocument=ADMIN)
    cfg = config(QUARANTINE_POLICY_ARN=deny)
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name="app", policy_name="oops")
    outcome = only(run)
    assert (outcome.action.action, outcome.status) == ("quarantine", Status.DONE)
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(
        RoleName="app")["AttachedPolicies"]] == [deny]
    undo(iam, outcome.action.details["undo"])
    assert iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"] == []


def test_dry_run_changes_nothing(iam: Any) -> None:
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="oops", PolicyDocument=ADMIN)
    cfg = config(dry_run=True)
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name="app", policy_name="oops")
    assert only(run).status == Status.PLANNED
    assert iam.list_role_policies(RoleName="app")["PolicyNames"] == ["oops"]


def test_report_mode_is_the_default(iam: Any) -> None:
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="oops", PolicyDocument=ADMIN)
    cfg = GuardConfig.from_env({"DRY_RUN": "false", "AWS_REGION": "us-east-1"})
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name="app", policy_name="oops")
    assert only(run).action.action == "report-dangerous-iam"
    assert iam.list_role_policies(RoleName="app")["PolicyNames"] == ["oops"]


@pytest.mark.parametrize(("name", "path", "tags", "env", "note"), [
    ("break-glass", "/", {"opskit:exempt": "true"}, {}, "exempt"),
    ("AWSServiceRoleForX", "/aws-service-role/x.amazonaws.com/", {}, {}, "service-linked"),
    ("opskit-Guard-Role", "/", {}, {"OWN_ROLE_PREFIXES": "opskit-"}, "catalog's prefix"),
    ("opskit-Guard-Role", "/", {}, {"OWN_ROLE_NAME": "opskit-Guard-Role"}, "own roles"),
    ("emergency", "/", {}, {"ALLOWED_PRINCIPALS": "arn:aws:iam::*:role/emerg*"}, "allow-listed"),
    ("tagged-allow", "/", {"opskit:iam-guard": "allow"}, {}, "allowed by tag"),
])
def test_protected_principals_are_never_changed(  # noqa: PLR0917 - one parametrized row
        iam: Any, name: str, path: str, tags: dict[str, str], env: dict[str, str],
        note: str) -> None:
    role(iam, name, path=path, tags=tags)
    iam.put_role_policy(RoleName=name, PolicyName="oops", PolicyDocument=ADMIN)
    cfg = config(**env)
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name=name, policy_name="oops")
    outcome = only(run)
    assert outcome.status == Status.SKIPPED
    assert note in outcome.note
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["oops"]


def test_a_policy_rewritten_before_the_write_is_skipped(iam: Any) -> None:
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="oops", PolicyDocument=ADMIN)
    reader = IamReader(iam)
    original = reader.inline_policy
    reads: list[str] = []

    def racing(kind: Any, name: str, policy_name: str) -> Any:
        # The first read saw another version than IAM holds at the re-read (someone wrote
        # in between): the written document would not be the one analysed.
        reads.append(policy_name)
        if len(reads) == 1:
            return {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["*"], "Resource": "*", "Sid": "Earlier"}]}
        return original(kind, name, policy_name)

    reader.inline_policy = racing  # type: ignore[method-assign]
    run = executor(config())
    check_inline(reader, run, config(), kind="role", name="app", policy_name="oops")
    outcome = only(run)
    assert outcome.status == Status.SKIPPED
    assert "changed since it was read" in outcome.note
    assert iam.list_role_policies(RoleName="app")["PolicyNames"] == ["oops"]


def test_undo_refuses_a_call_it_does_not_know(iam: Any) -> None:
    with pytest.raises(ValueError, match="undo="):
        undo(iam, {"call": "delete_role", "params": {"RoleName": "app"}})
