"""What the guard never does: act on an account that is not a target, take a role of another
account for its own, change the catalog's roles, attach a quarantine policy that grants
anything, quarantine what was fixed (or allowed) before the write, or revert a policy version
that a protected principal holds. And what it always reports: the quarantine policy rewritten,
the guard's own tags written on a principal."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3
import pytest

from iam_policy_guard import actuators
from iam_policy_guard.app import lambda_handler
from iam_policy_guard.events import CALLS
from iam_policy_guard.guard import check_attachment, check_inline, check_policy_version, summary
from iam_policy_guard.inventory import IamReader
from iam_policy_guard.planner import quarantine_policy_in
from opskit.actions import Status
from tests.conftest import FakeLambdaContext, load_event
from tests.iam_policy_guard.test_guarantees import (
    ADMIN,
    DENY_ALL,
    HOME,
    S3_READ,
    allow,
    config,
    doc,
    executor,
    iam,  # noqa: F401 (fixture)
    quarantine_policy,
    role,
)
from tools.member_role import MEMBER, load

ROOT = Path(__file__).resolve().parents[2]
MEMBER_ACCOUNT = "111122223333"
Env = Callable[..., None]


def _iam_in(account: str) -> Any:
    """IAM of another account, through the role the stack assumes there (moto)."""
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OpskitExecutionRole",
        RoleSessionName="test")["Credentials"]
    return boto3.client("iam", region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"])


def _event(stem: str, account: str, caller_role: str | None = None) -> dict[str, Any]:
    event = copy.deepcopy(load_event(f"iam_policy_guard/{stem}.json"))
    event["account"] = event["detail"]["recipientAccountId"] = account
    if caller_role is not None:
        event["detail"]["userIdentity"]["arn"] = (
            f"arn:aws:sts::{account}:assumed-role/{caller_role}/mallory")
    return event


def _orders_api(client: Any) -> None:
    client.create_role(RoleName="orders-api", AssumeRolePolicyDocument=json.dumps(doc({
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"})))
    client.put_role_policy(RoleName="orders-api", PolicyName="temporary-debug",
                           PolicyDocument=ADMIN)


# ---- the record's account and caller ------------------------------------------------------------

@pytest.mark.usefixtures("aws")
def test_a_record_of_an_account_that_is_not_a_target_changes_nothing_there(
        env: Env, reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    env(DRY_RUN="false", GUARD_MODE="remediate", POWERTOOLS_SERVICE_NAME="iam_policy_guard")
    stranger = _iam_in(MEMBER_ACCOUNT)
    _orders_api(stranger)
    result = lambda_handler(_event("put-role-policy", MEMBER_ACCOUNT), lambda_context)
    assert stranger.list_role_policies(RoleName="orders-api")["PolicyNames"] == [
        "temporary-debug"]
    assert reports == []
    assert result["skipped"].startswith(
        f"not a target: detail.recipientAccountId='{MEMBER_ACCOUNT}' is invalid")


@pytest.mark.usefixtures("aws")
def test_a_record_of_a_target_account_is_acted_on_there(
        env: Env, reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    env(DRY_RUN="false", GUARD_MODE="remediate", POWERTOOLS_SERVICE_NAME="iam_policy_guard",
        TARGET_ACCOUNTS=MEMBER_ACCOUNT)
    member = _iam_in(MEMBER_ACCOUNT)
    _orders_api(member)
    lambda_handler(_event("put-role-policy", MEMBER_ACCOUNT), lambda_context)
    assert member.list_role_policies(RoleName="orders-api")["PolicyNames"] == []


@pytest.mark.usefixtures("aws")
def test_a_member_accounts_role_named_like_the_guards_is_still_checked(
        env: Env, reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    own = "opskit-IamPolicyGuardFunctionRole-1A2B3C"
    env(DRY_RUN="false", GUARD_MODE="remediate", POWERTOOLS_SERVICE_NAME="iam_policy_guard",
        TARGET_ACCOUNTS=MEMBER_ACCOUNT, OWN_ROLE_NAME=own)
    member = _iam_in(MEMBER_ACCOUNT)
    _orders_api(member)
    lambda_handler(_event("put-role-policy", MEMBER_ACCOUNT, own), lambda_context)
    assert member.list_role_policies(RoleName="orders-api")["PolicyNames"] == []
    assert reports


@pytest.mark.usefixtures("aws")
def test_the_guards_own_role_in_its_own_account_is_skipped(
        env: Env, reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    own = "opskit-IamPolicyGuardFunctionRole-1A2B3C"
    env(DRY_RUN="false", GUARD_MODE="remediate", POWERTOOLS_SERVICE_NAME="iam_policy_guard",
        OWN_ROLE_NAME=own)
    result = lambda_handler(_event("put-role-policy", HOME, own), lambda_context)
    assert result["skipped"] == "made by this automation's own role"
    assert reports == []


# ---- the catalog's roles ------------------------------------------------------------------------

ROTATION = doc({"Effect": "Allow",
                "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:UpdateAccessKey"],
                "Resource": f"arn:aws:iam::{HOME}:user/*",
                "Condition": {"Null": {"aws:ResourceTag/opskit:rotation-secret": "false"}}})


def test_another_automations_role_of_the_catalog_keeps_its_policy(iam: Any) -> None:  # noqa: F811
    """access_key_rotation's role may create keys for the users it rotates (pe-create-access-key):
    a catalog role (OWN_ROLE_PREFIXES, set by the template to the stack's name) is reported as
    skipped, never changed."""
    name = "opskit-AccessKeyRotationFunctionRole-1Q2W3E4R"
    role(iam, name)
    iam.put_role_policy(RoleName=name, PolicyName="AccessKeyRotationFunctionRolePolicy0",
                        PolicyDocument=json.dumps(ROTATION))
    cfg = config("remediate", OWN_ROLE_NAME="opskit-IamPolicyGuardFunctionRole-9Z8Y",
                 OWN_ROLE_PREFIXES="opskit-")
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name=name,
                 policy_name="AccessKeyRotationFunctionRolePolicy0")
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == [
        "AccessKeyRotationFunctionRolePolicy0"]
    (outcome,) = run.outcomes
    assert outcome.status == Status.SKIPPED
    assert outcome.note.startswith("named with the catalog's prefix (OWN_ROLE_PREFIXES): "
                                   "never changed; reported")


def _guard_template() -> dict[str, Any]:
    return load(ROOT / "functions" / "iam_policy_guard" / "template.yaml")


def test_the_template_protects_every_role_of_the_catalog() -> None:
    resources = _guard_template()["Resources"]
    variables = resources["IamPolicyGuardFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["OWN_ROLE_PREFIXES"] == {"Fn::Join": [",", [
        {"Fn::If": ["OwnName", {"Fn::Sub": "${AWS::StackName}-"},
                    {"Fn::Sub": "${CatalogStackName}-"}]},
        {"Fn::If": ["ExtraPrefixes", {"Ref": "IamGuardProtectedRolePrefixes"},
                    {"Ref": "AWS::NoValue"}]}]]}  # and more, for another stack's roles
    denies = {s["Sid"]: s for s in resources["IamPolicyGuardOwnRole"]["Properties"][
        "PolicyDocument"]["Statement"]}
    catalog = denies["NeverChangeCatalogRoles"]
    assert catalog["Effect"] == "Deny"
    assert catalog["Resource"] == {"Fn::If": [
        "OwnName",
        {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}-*"},
        {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${CatalogStackName}-*"}]}
    assert {"iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:AttachRolePolicy",
            "iam:UpdateAssumeRolePolicy"} <= set(catalog["Action"])


def test_the_rule_delivers_exactly_the_calls_the_guard_handles() -> None:
    pattern = _guard_template()["Resources"]["IamPolicyGuardFunction"]["Properties"]["Events"][
        "IamChanges"]["Properties"]["Pattern"]
    assert set(pattern["detail"]["eventName"]) == CALLS


# ---- the quarantine policy ----------------------------------------------------------------------

def test_a_quarantine_policy_that_allows_anything_is_never_attached(
        iam: Any) -> None:  # noqa: F811
    arn = quarantine_policy(iam)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ADMIN, SetAsDefault=True)
    cfg = config("quarantine", QUARANTINE_POLICY_ARN=arn)
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="debug", PolicyDocument=json.dumps(
        doc(allow("iam:CreateAccessKey"))))
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name="app", policy_name="debug")
    assert iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"] == []
    (outcome,) = run.outcomes
    assert outcome.status == Status.FAILED
    assert "not deny-only with an unconditional Deny * on *: not attached" in outcome.note


def test_a_deny_only_quarantine_policy_is_attached(iam: Any) -> None:  # noqa: F811
    arn = quarantine_policy(iam)
    cfg = config("quarantine", QUARANTINE_POLICY_ARN=arn)
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="oops", PolicyDocument=ADMIN)
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name="app", policy_name="oops")
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(
        RoleName="app")["AttachedPolicies"]] == [arn]


@pytest.mark.parametrize("mode", ["report", "quarantine"])
def test_a_new_version_of_the_quarantine_policy_that_is_not_deny_all_is_reported(
        iam: Any, mode: str) -> None:  # noqa: F811
    arn = quarantine_policy(iam)
    weaker = json.dumps(doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}))
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=weaker, SetAsDefault=True)
    cfg = config(mode, QUARANTINE_POLICY_ARN=arn)
    run = executor(cfg)
    check_policy_version(IamReader(iam), run, cfg, arn)
    (outcome,) = run.outcomes
    assert [f["rule"] for f in outcome.action.details["findings"]] == [
        "quarantine-policy-changed"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"


def test_a_rewritten_quarantine_policy_is_reverted_in_remediate_mode(
        iam: Any) -> None:  # noqa: F811
    arn = quarantine_policy(iam)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ADMIN, SetAsDefault=True)
    cfg = config("remediate", QUARANTINE_POLICY_ARN=arn)
    run = executor(cfg)
    check_policy_version(IamReader(iam), run, cfg, arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    (outcome,) = run.outcomes
    assert {f["rule"] for f in outcome.action.details["findings"]} == {
        "full-admin", "quarantine-policy-changed"}


def test_the_quarantine_policy_of_a_target_account_is_its_own() -> None:
    home = f"arn:aws:iam::{HOME}:policy/opskit-quarantine"
    assert quarantine_policy_in(home, f"arn:aws:iam::{MEMBER_ACCOUNT}:role/app") == (
        f"arn:aws:iam::{MEMBER_ACCOUNT}:policy/opskit-quarantine")
    assert quarantine_policy_in(home, f"arn:aws:iam::{HOME}:user/dev") == home


# ---- the re-read before a quarantine ------------------------------------------------------------

def _racing(reader: IamReader, meanwhile: Callable[[], None]) -> list[int]:
    """Run `meanwhile` just before the re-read of the principal that precedes the write (on a
    thread of its own: someone else's call, not the guard's)."""
    original = reader.principal
    calls: list[int] = []

    def principal(kind: Any, name: str) -> Any:
        calls.append(1)
        if len(calls) == 2:
            other = threading.Thread(target=meanwhile)
            other.start()
            other.join()
        return original(kind, name)

    reader.principal = principal  # type: ignore[method-assign]
    return calls


def test_a_finding_removed_before_the_write_is_not_quarantined(iam: Any) -> None:  # noqa: F811
    arn = quarantine_policy(iam)
    cfg = config("quarantine", QUARANTINE_POLICY_ARN=arn)
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="oops", PolicyDocument=ADMIN)
    reader = IamReader(iam)
    calls = _racing(reader, lambda: iam.delete_role_policy(RoleName="app",
                                                                PolicyName="oops"))
    run = executor(cfg)
    check_inline(reader, run, cfg, kind="role", name="app", policy_name="oops")
    assert len(calls) == 2
    assert iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"] == []
    (outcome,) = run.outcomes
    assert outcome.status == Status.SKIPPED
    assert "nothing dangerous is left" in outcome.note


@pytest.mark.parametrize(("key", "value"), [("opskit:iam-guard", "allow"),
                                            ("opskit:iam-guard", "report"),
                                            ("opskit:exempt", "true")])
def test_a_principal_tagged_before_the_write_is_not_quarantined(
        iam: Any, key: str, value: str) -> None:  # noqa: F811
    arn = quarantine_policy(iam)
    cfg = config("quarantine", QUARANTINE_POLICY_ARN=arn)
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="oops", PolicyDocument=ADMIN)
    reader = IamReader(iam)
    _racing(reader, lambda: iam.tag_role(RoleName="app", Tags=[{"Key": key, "Value": value}]))
    run = executor(cfg)
    check_inline(reader, run, cfg, kind="role", name="app", policy_name="oops")
    assert iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"] == []
    (outcome,) = run.outcomes
    assert outcome.status == Status.SKIPPED
    assert outcome.note.startswith("changed since it was read, nothing written")


# ---- the holders of a policy whose version would be reverted -----------------------------------

@pytest.mark.parametrize("protection", ["allow-listed", "exempt", "allow-tagged",
                                        "catalog-role"])
def test_a_policy_held_by_a_protected_principal_is_reported_not_reverted(
        iam: Any, protection: str) -> None:  # noqa: F811
    tags = {"allow-tagged": {"opskit:iam-guard": "allow"},
            "exempt": {"opskit:exempt": "true"}}.get(protection, {})
    name = "opskit-BreakGlassRole-1A2B" if protection == "catalog-role" else "break-glass"
    role(iam, name, tags=tags)
    arn = iam.create_policy(PolicyName="break-glass-access",
                            PolicyDocument=S3_READ)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ADMIN, SetAsDefault=True)
    cfg = config("remediate", ALLOWED_PRINCIPALS=f"arn:aws:iam::{HOME}:role/break-glass",
                 OWN_ROLE_PREFIXES="opskit-")
    if protection != "allow-listed":
        cfg = config("remediate", OWN_ROLE_PREFIXES="opskit-")
    run = executor(cfg)
    check_policy_version(IamReader(iam), run, cfg, arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    (outcome,) = run.outcomes
    assert outcome.action.action == "report-dangerous-iam"
    suffix = (" (named with the catalog's prefix, OWN_ROLE_PREFIXES)"
              if protection == "catalog-role" else "")
    assert outcome.action.details["no_remedy"] == (
        f"held by principals the guard never changes: arn:aws:iam::{HOME}:role/{name}{suffix}")


def test_a_policy_held_only_by_ordinary_principals_is_reverted(iam: Any) -> None:  # noqa: F811
    role(iam, "app")
    iam.create_user(UserName="dev")
    arn = iam.create_policy(PolicyName="deploy", PolicyDocument=S3_READ)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    iam.attach_user_policy(UserName="dev", PolicyArn=arn)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ADMIN, SetAsDefault=True)
    cfg = config("remediate")
    run = executor(cfg)
    check_policy_version(IamReader(iam), run, cfg, arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"


# ---- the guard's own tags written on a principal ------------------------------------------------

def _tag_event(name: str, tags: list[dict[str, str]]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("iam_policy_guard/put-role-policy.json"))
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"] = (
        {"roleName": "orders-api", "tags": tags} if name == "TagRole"
        else {"roleName": "orders-api", "tagKeys": [t["key"] for t in tags]})
    return event


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("name", ["TagRole", "UntagRole"])
def test_writing_the_guards_tags_on_a_principal_is_reported(
        env: Env, reports: list[dict[str, Any]], lambda_context: FakeLambdaContext,
        name: str) -> None:
    env(DRY_RUN="false", POWERTOOLS_SERVICE_NAME="iam_policy_guard")
    client = boto3.client("iam", region_name="us-east-1")
    _orders_api(client)
    client.tag_role(RoleName="orders-api", Tags=[{"Key": "opskit:exempt", "Value": "true"}])
    lambda_handler(_tag_event(name, [{"key": "opskit:exempt", "value": "true"}]),
                   lambda_context)
    (report,) = reports
    (action,) = report["actions"]
    assert action["resource"] == f"arn:aws:iam::{HOME}:role/orders-api"
    assert action["status"] == "done"
    (finding,) = action["details"]["findings"]
    assert finding["rule"] == "guard-tag-changed"
    assert finding["detail"] == f"{name} of opskit:exempt"


@pytest.mark.usefixtures("aws")
def test_other_tags_written_on_a_principal_are_not_reported(
        env: Env, reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    env(DRY_RUN="false", POWERTOOLS_SERVICE_NAME="iam_policy_guard")
    result = lambda_handler(_tag_event("TagRole", [{"key": "team", "value": "orders"}]),
                            lambda_context)
    assert result["skipped"] == "tags other than the guard's: nothing to check"
    assert reports == []


@pytest.mark.usefixtures("aws")
def test_a_boundary_removed_from_a_principal_rechecks_what_it_holds(
        env: Env, reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    env(DRY_RUN="false", POWERTOOLS_SERVICE_NAME="iam_policy_guard")
    _orders_api(boto3.client("iam", region_name="us-east-1"))
    event = copy.deepcopy(load_event("iam_policy_guard/put-role-policy.json"))
    event["detail"]["eventName"] = "DeleteRolePermissionsBoundary"
    event["detail"]["requestParameters"] = {"roleName": "orders-api"}
    lambda_handler(event, lambda_context)
    (report,) = reports
    assert {f["rule"] for a in report["actions"] for f in a["details"]["findings"]} == {
        "full-admin"}


# ---- the member role ----------------------------------------------------------------------------

def test_the_member_role_grants_the_guard_with_its_denies_and_quarantine_policy() -> None:
    resources = load(MEMBER)["Resources"]
    statements = {s["Sid"]: s for s in resources["IamPolicyGuardPolicy"]["Properties"][
        "PolicyDocument"]["Statement"]}
    assert "iam:GetAccountAuthorizationDetails" in statements["ReadIam"]["Action"]
    assert statements["Quarantine"]["Condition"] == {"ArnEquals": {"iam:PolicyARN": {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/"
                   "${OpskitStackName}-quarantine"}}}
    assert "iam:UpdateAssumeRolePolicy" in resources["IamPolicyGuardExemption"]["Properties"][
        "PolicyDocument"]["Fn::Sub"]
    (deny,) = resources["IamPolicyGuardOwnRole"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert {"Fn::GetAtt": ["ExecutionRole", "Arn"]} in deny["Resource"]
    quarantine = resources["IamPolicyGuardQuarantinePolicy"]["Properties"]
    assert quarantine["ManagedPolicyName"] == {"Fn::Sub": "${OpskitStackName}-quarantine"}
    assert quarantine["PolicyDocument"] == json.loads(DENY_ALL) | {"Statement": [
        {"Sid": "Quarantined", "Effect": "Deny", "Action": "*", "Resource": "*"}]}


def test_the_stacks_quarantine_policy_is_named_like_the_member_roles() -> None:
    properties = _guard_template()["Resources"]["QuarantinePolicy"]["Properties"]
    assert properties["ManagedPolicyName"] == {"Fn::If": [
        "OwnName", {"Fn::Sub": "${AWS::StackName}-quarantine"},
        {"Fn::Sub": "${CatalogStackName}-quarantine"}]}


# ---- quarantine: only a policy that denies everything -------------------------------------------

def test_a_deny_only_quarantine_policy_that_no_longer_denies_everything_is_never_attached(
        iam: Any) -> None:  # noqa: F811
    arn = quarantine_policy(iam)
    iam.create_policy_version(PolicyArn=arn, SetAsDefault=True, PolicyDocument=json.dumps(doc(
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::nothing/*"})))
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="oops", PolicyDocument=ADMIN)
    cfg = config("quarantine", QUARANTINE_POLICY_ARN=arn)
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name="app", policy_name="oops")
    assert iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"] == []
    (outcome,) = run.outcomes
    assert outcome.status == Status.FAILED


def test_a_dry_run_refuses_the_quarantine_a_live_run_would_refuse(iam: Any) -> None:  # noqa: F811
    arn = quarantine_policy(iam)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ADMIN, SetAsDefault=True)
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="oops", PolicyDocument=ADMIN)
    cfg = config("quarantine", QUARANTINE_POLICY_ARN=arn, DRY_RUN="true")
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name="app", policy_name="oops")
    (outcome,) = run.outcomes
    assert outcome.status == Status.FAILED
    assert "not attached" in outcome.note


def test_a_dry_run_plans_the_quarantine_with_a_deny_all_policy(iam: Any) -> None:  # noqa: F811
    arn = quarantine_policy(iam)
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="oops", PolicyDocument=ADMIN)
    cfg = config("quarantine", QUARANTINE_POLICY_ARN=arn, DRY_RUN="true")
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name="app", policy_name="oops")
    (outcome,) = run.outcomes
    assert outcome.status == Status.PLANNED
    assert iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"] == []


# ---- version reverts: every holder asked ---------------------------------------------------------

def _bad_version(iam: Any) -> str:  # noqa: F811
    arn = iam.create_policy(PolicyName="ops", PolicyDocument=S3_READ)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ADMIN, SetAsDefault=True)
    return arn


@pytest.mark.parametrize("mode", ["report", "quarantine", "unknown-value"])
def test_a_version_held_by_a_principal_whose_mode_tag_is_not_remediate_is_not_reverted(
        iam: Any, mode: str) -> None:  # noqa: F811
    arn = _bad_version(iam)
    iam.create_user(UserName="oncall", Tags=[{"Key": "opskit:iam-guard", "Value": mode}])
    iam.attach_user_policy(UserName="oncall", PolicyArn=arn)
    cfg = config("remediate")
    run = executor(cfg)
    check_policy_version(IamReader(iam), run, cfg, arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"


def test_a_version_held_by_a_principal_tagged_remediate_is_reverted(
        iam: Any) -> None:  # noqa: F811
    arn = _bad_version(iam)
    iam.create_user(UserName="dev", Tags=[{"Key": "opskit:iam-guard", "Value": "remediate"}])
    iam.attach_user_policy(UserName="dev", PolicyArn=arn)
    cfg = config("remediate")
    run = executor(cfg)
    check_policy_version(IamReader(iam), run, cfg, arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"


@pytest.mark.parametrize("tags", [{"opskit:exempt": "true"}, {"opskit:iam-guard": "allow"}],
                         ids=["exempt-member", "allow-member"])
def test_a_version_a_protected_user_holds_through_a_group_is_not_reverted(
        iam: Any, tags: dict[str, str]) -> None:  # noqa: F811
    arn = _bad_version(iam)
    iam.create_group(GroupName="responders")
    iam.attach_group_policy(GroupName="responders", PolicyArn=arn)
    iam.create_user(UserName="incident-lead",
                    Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    iam.add_user_to_group(GroupName="responders", UserName="incident-lead")
    cfg = config("remediate")
    run = executor(cfg)
    check_policy_version(IamReader(iam), run, cfg, arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    (outcome,) = run.outcomes
    assert outcome.action.details["no_remedy"] == (
        "held by principals the guard never changes: "
        f"arn:aws:iam::{HOME}:user/incident-lead (through group responders)")


# ---- detach: re-read what made it necessary ------------------------------------------------------

def _detach_after_default_became(client: Any, arn: str, version: str) -> Any:
    """Remediates the attachment of `arn` to role app, its default version set to `version`
    by someone between the guard's read and its write; the one outcome."""
    original = actuators.changed_since_read

    def changed_meanwhile(reader: Any, change: Any) -> Any:
        client.set_default_policy_version(PolicyArn=arn, VersionId=version)
        return original(reader, change)

    cfg = config("remediate")
    run = executor(cfg)
    with patch.object(actuators, "changed_since_read", changed_meanwhile):
        check_attachment(IamReader(client), run, cfg, kind="role", name="app", policy_arn=arn)
    (outcome,) = run.outcomes
    return outcome


def test_a_detach_is_skipped_when_the_policy_became_safe_before_the_write(
        iam: Any) -> None:  # noqa: F811
    arn = _bad_version(iam)
    role(iam, "app")
    iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    outcome = _detach_after_default_became(iam, arn, "v1")
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(
        RoleName="app")["AttachedPolicies"]] == [arn]
    assert outcome.status == Status.SKIPPED
    assert "nothing dangerous is left" in outcome.note


def test_a_detach_is_skipped_when_the_findings_changed_before_the_write(
        iam: Any) -> None:  # noqa: F811
    arn = _bad_version(iam)
    role(iam, "app")
    iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    iam.create_policy_version(PolicyArn=arn, SetAsDefault=False, PolicyDocument=json.dumps(
        doc(allow("iam:CreateAccessKey"))))
    outcome = _detach_after_default_became(iam, arn, "v3")
    assert len(iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"]) == 1
    assert outcome.status == Status.SKIPPED
    assert "findings are now pe-create-access-key" in outcome.note


def test_a_detach_still_dangerous_at_the_write_is_done(iam: Any) -> None:  # noqa: F811
    arn = _bad_version(iam)
    role(iam, "app")
    iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    cfg = config("remediate")
    run = executor(cfg)
    check_attachment(IamReader(iam), run, cfg, kind="role", name="app", policy_arn=arn)
    assert iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"] == []


# ---- roles protected by their name alone ---------------------------------------------------------

def test_a_role_named_with_the_catalog_prefix_is_reported_never_changed(
        iam: Any) -> None:  # noqa: F811
    role(iam, "opskit-backdoor")
    iam.put_role_policy(RoleName="opskit-backdoor", PolicyName="all", PolicyDocument=ADMIN)
    cfg = config("remediate", OWN_ROLE_PREFIXES="opskit-")
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name="opskit-backdoor",
                 policy_name="all")
    assert iam.list_role_policies(RoleName="opskit-backdoor")["PolicyNames"] == ["all"]
    (outcome,) = run.outcomes
    assert outcome.status == Status.SKIPPED
    assert "a name alone does not prove the role is the catalog's" in outcome.note
    assert [f["rule"] for f in outcome.action.details["findings"]] == ["full-admin"]
    assert summary(run.outcomes, False, "test").severity == "warning"


def test_two_stacks_protect_each_others_roles_with_a_list_of_prefixes(
        iam: Any) -> None:  # noqa: F811
    other_guard = "opskit-IamPolicyGuardFunctionRole-1A2B3C4D5E6F"
    role(iam, other_guard)
    iam.put_role_policy(RoleName=other_guard, PolicyName="IamPolicyGuardFunctionRolePolicy0",
                        PolicyDocument=json.dumps(doc(
                            allow("iam:SetDefaultPolicyVersion", f"arn:aws:iam::{HOME}:policy/*"),
                            allow("iam:UpdateAssumeRolePolicy", f"arn:aws:iam::{HOME}:role/*"))))
    cfg = config("remediate", OWN_ROLE_PREFIXES="opskit-dev-, opskit-",
                 OWN_ROLE_NAME="opskit-dev-IamPolicyGuardFunctionRole-9Z8Y7X6W5V4U")
    assert cfg.own_role_prefixes == ("opskit-dev-", "opskit-")
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name=other_guard,
                 policy_name="IamPolicyGuardFunctionRolePolicy0")
    assert iam.list_role_policies(RoleName=other_guard)["PolicyNames"] == [
        "IamPolicyGuardFunctionRolePolicy0"]
    (outcome,) = run.outcomes
    assert outcome.status == Status.SKIPPED


# ---- tags on managed policies -------------------------------------------------------------------

@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("name", ["TagPolicy", "UntagPolicy"])
def test_writing_the_guards_tags_on_a_policy_is_reported(
        env: Env, reports: list[dict[str, Any]], lambda_context: FakeLambdaContext,
        name: str) -> None:
    env(DRY_RUN="false", POWERTOOLS_SERVICE_NAME="iam_policy_guard")
    policy_arn = f"arn:aws:iam::{HOME}:policy/ops"
    event = copy.deepcopy(load_event("iam_policy_guard/put-role-policy.json"))
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"] = (
        {"policyArn": policy_arn, "tags": [{"key": "opskit:exempt", "value": "true"}]}
        if name == "TagPolicy" else {"policyArn": policy_arn, "tagKeys": ["opskit:exempt"]})
    lambda_handler(event, lambda_context)
    (report,) = reports
    (action,) = report["actions"]
    assert action["resource"] == policy_arn
    (finding,) = action["details"]["findings"]
    assert finding["rule"] == "guard-tag-changed"
    assert finding["detail"] == f"{name} of opskit:exempt"
