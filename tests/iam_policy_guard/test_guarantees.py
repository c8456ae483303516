"""What the IAM policy guard guarantees: the grants it finds (escalations in their less obvious
forms, trust policies that let outsiders in), what it never changes, and how it remediates.
Each test states one property; the moto fixtures and builders here are shared with the other
guard tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from iam_policy_guard.guard import (
    check_attachment,
    check_group_join,
    check_inline,
    check_policy_version,
    check_trust,
)
from iam_policy_guard.inventory import IamReader
from iam_policy_guard.rules import Scope, TrustContext, permission_findings, trust_findings
from iam_policy_guard.settings import GuardConfig
from opskit.actions import Executor, Status
from tests.iam_policy_guard import seed

HOME = "123456789012"
ORG = "o-a1b2c3d4e5"
STRANGER = "999988887777"
CONTEXT = TrustContext(HOME, frozenset(), ORG)

ADMIN = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
S3_READ = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
EC2_READ = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]})
EC2_TRUST = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
             "Action": "sts:AssumeRole"}
DENY_ALL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "*", "Resource": "*"}]})


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", condition: Any = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def trust(principal: Any, condition: Any = None,
          action: str = "sts:AssumeRole") -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return doc(statement)


def ids(findings: Any) -> set[str]:
    return {f.rule.id for f in findings}


# ==== permission policies: grants found in their less obvious forms ==============================

def test_attach_policy_limited_by_a_wildcard_policy_arn_is_still_escalation() -> None:
    # iam:PolicyARN ArnLike arn:aws:iam::aws:policy/* lets the holder attach AdministratorAccess
    # to itself: a wildcard value narrows nothing.
    document = doc(allow("iam:AttachUserPolicy", "*",
                         {"ArnLike": {"iam:PolicyARN": "arn:aws:iam::aws:policy/*"}}))
    assert "pe-attach-policy" in ids(permission_findings(document))


def test_put_user_policy_on_self_is_escalation() -> None:
    # Rhino's PutUserPolicy method is writing an inline policy on one's OWN user: the
    # ${aws:username} resource is the self-service pattern for credentials only.
    document = doc(allow("iam:PutUserPolicy", "arn:aws:iam::*:user/${aws:username}"))
    assert "pe-put-policy" in ids(permission_findings(document))


def test_attach_user_policy_on_self_is_escalation() -> None:
    document = doc(allow("iam:AttachUserPolicy", "arn:aws:iam::*:user/${aws:username}"))
    assert "pe-attach-policy" in ids(permission_findings(document))


def test_passrole_any_with_create_and_invoke_of_one_named_function_is_escalation() -> None:
    # Only the role must be unrestricted: a function the holder may create (by name) and invoke
    # runs with any role it passes.
    fn = f"arn:aws:lambda:us-east-1:{HOME}:function:scratch"
    document = doc(allow("iam:PassRole", "*"),
                   allow(["lambda:CreateFunction", "lambda:InvokeFunction"], fn))
    assert "pe-passrole-lambda" in ids(permission_findings(document))


# ---- forms found, and common safe policies left alone ----

@pytest.mark.parametrize("document", [
    doc(allow("iam:*Policy*")), doc(allow("IAM:attach*")), doc(allow(["s3:GetObject", "*:*"])),
    doc({"Effect": "Allow", "NotAction": ["s3:*"], "NotResource": "arn:aws:s3:::x"}),
    doc(allow("iam:PassRole", ["arn:aws:s3:::b", "*"]), allow("ec2:RunInstances")),
])
def test_dangerous_forms_that_are_found(document: Any) -> None:
    assert permission_findings(document)


@pytest.mark.parametrize("document", [
    doc(allow(["*:Describe*", "*:Get*", "*:List*"])),
    doc(allow("iam:PassRole", f"arn:aws:iam::{HOME}:role/app-worker",
              {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
        allow(["lambda:CreateFunction", "lambda:InvokeFunction"])),
    doc(allow("iam:PassRole", "*", {"StringEquals": {"iam:PassedToService":
                                                     "ecs-tasks.amazonaws.com"}}),
        allow("ec2:RunInstances")),
])
def test_common_safe_policies_are_not_flagged(document: Any) -> None:
    # A role named by its ARN is read by the guard: here one that holds nothing dangerous.
    assert permission_findings(document, Scope(principal_admin=lambda kind, name: False)) == []


# ==== trust policies =============================================================================

def test_trust_star_with_wildcard_principal_arn_is_anyone() -> None:
    document = trust("*", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}})
    assert "trust-anyone" in ids(trust_findings(document, CONTEXT))


def test_trust_star_with_if_exists_org_condition_is_anyone() -> None:
    # ...IfExists: a principal of an account outside any organization has no aws:PrincipalOrgID,
    # so the condition is true for it.
    document = trust({"AWS": "*"}, {"StringEqualsIfExists": {"aws:PrincipalOrgID": ORG}})
    assert "trust-anyone" in ids(trust_findings(document, CONTEXT))


def test_trust_star_with_for_all_values_org_condition_is_anyone() -> None:
    # ForAllValues is true when the key is absent (empty set).
    document = trust({"AWS": "*"}, {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": ORG}})
    assert "trust-anyone" in ids(trust_findings(document, CONTEXT))


def test_trust_star_narrowed_to_a_stranger_account_is_external() -> None:
    document = trust("*", {"StringEquals": {"aws:PrincipalAccount": STRANGER}})
    assert trust_findings(document, CONTEXT), "a stranger account can assume the role"


def test_trust_star_narrowed_to_another_organization_is_external() -> None:
    document = trust("*", {"StringEquals": {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}})
    assert trust_findings(document, CONTEXT), "another organization can assume the role"


def test_github_oidc_trust_without_sub_condition_is_dangerous() -> None:
    # Any repository of any GitHub user can get a token with this audience.
    document = trust({"Federated": f"arn:aws:iam::{HOME}:oidc-provider/"
                                   "token.actions.githubusercontent.com"},
                     {"StringEquals": {"token.actions.githubusercontent.com:aud":
                                       "sts.amazonaws.com"}},
                     action="sts:AssumeRoleWithWebIdentity")
    assert trust_findings(document, CONTEXT)


def test_cognito_trust_without_aud_condition_is_dangerous() -> None:
    # Without cognito-identity.amazonaws.com:aud any identity pool (any account) can assume it.
    document = trust({"Federated": "cognito-identity.amazonaws.com"},
                     action="sts:AssumeRoleWithWebIdentity")
    assert trust_findings(document, CONTEXT)


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*"]},
                                       {"AWS": [f"arn:aws:iam::{HOME}:root", "*"]}])
def test_star_principal_forms_are_found(principal: Any) -> None:
    assert ids(trust_findings(trust(principal), CONTEXT)) == {"trust-anyone"}


# ==== guard on moto ==============================================================================

@pytest.fixture
def iam() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("iam", region_name="us-east-1")


def config(mode: str = "remediate", **env: str) -> GuardConfig:
    return GuardConfig.from_env({"GUARD_MODE": mode, "DRY_RUN": "false",
                                 "AWS_REGION": "us-east-1", **env})


def executor(cfg: GuardConfig) -> Executor:
    return Executor(cfg.common.dry_run, cfg.common.exemption_tag_key)


def role(iam: Any, name: str, *, trust_statements: list[dict[str, Any]] | None = None,
         tags: dict[str, str] | None = None) -> None:
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        doc(*(trust_statements or [EC2_TRUST]))),
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])


def quarantine_policy(iam: Any) -> str:
    return iam.create_policy(PolicyName="opskit-quarantine",
                             PolicyDocument=DENY_ALL)["Policy"]["Arn"]


def test_aws_managed_iam_full_access_attached_to_a_user_is_reported(iam: Any) -> None:
    # AWS managed policies are judged by their documents, like customer ones.
    iam.create_user(UserName="dev")
    iam.attach_user_policy(UserName="dev", PolicyArn=seed.aws_managed_policy("IAMFullAccess"))
    cfg = config("report")
    run = executor(cfg)
    check_attachment(IamReader(iam), run, cfg, kind="user", name="dev",
                     policy_arn="arn:aws:iam::aws:policy/IAMFullAccess")
    assert [o for o in run.outcomes if o.action.action != "inspect"], "iam:* given, not reported"


def test_quarantine_mode_does_not_revert_a_managed_policy_version(iam: Any) -> None:
    # GUARD_MODE=quarantine: a subject without a principal is reported, never remediated.
    cfg = config("quarantine", QUARANTINE_POLICY_ARN=quarantine_policy(iam))
    arn = iam.create_policy(PolicyName="deploy", PolicyDocument=S3_READ)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ADMIN, SetAsDefault=True)
    run = executor(cfg)
    check_policy_version(IamReader(iam), run, cfg, arn)
    assert [o.action.action for o in run.outcomes] == ["report-dangerous-iam"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"


def test_quarantine_mode_does_not_delete_a_group_inline_policy(iam: Any) -> None:
    cfg = config("quarantine", QUARANTINE_POLICY_ARN=quarantine_policy(iam))
    iam.create_group(GroupName="devs")
    iam.put_group_policy(GroupName="devs", PolicyName="oops", PolicyDocument=ADMIN)
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="group", name="devs", policy_name="oops")
    assert iam.list_group_policies(GroupName="devs")["PolicyNames"] == ["oops"]


def test_quarantine_that_attached_nothing_is_not_reported_done(iam: Any) -> None:
    # A missing quarantine policy (deleted, or not deployed in a target account) attaches
    # nothing: the quarantine is not recorded as done.
    missing = f"arn:aws:iam::{HOME}:policy/opskit-quarantine"
    cfg = config("quarantine", QUARANTINE_POLICY_ARN=missing)
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="oops", PolicyDocument=ADMIN)
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name="app", policy_name="oops")
    (outcome,) = run.outcomes
    assert iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"] == []
    assert outcome.status != Status.DONE, outcome.note


def test_set_default_to_an_old_version_is_not_reverted_to_an_even_older_one(iam: Any) -> None:
    # v1 (original), v2 staged admin (never default), v3 current default. Someone makes v2 the
    # default: the version that was default before is v3, not the newest version older than v2
    # (v1, never the state anyone ran with): nothing is reverted.
    arn = iam.create_policy(PolicyName="deploy", PolicyDocument=S3_READ)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ADMIN, SetAsDefault=False)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=EC2_READ, SetAsDefault=True)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    cfg = config()
    run = executor(cfg)
    check_policy_version(IamReader(iam), run, cfg, arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] in ("v2", "v3")


def test_exempt_tagged_customer_policy_is_not_reverted(iam: Any) -> None:
    arn = iam.create_policy(PolicyName="break-glass", PolicyDocument=S3_READ,
                            Tags=[{"Key": "opskit:exempt", "Value": "true"}])["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ADMIN, SetAsDefault=True)
    cfg = config()
    run = executor(cfg)
    check_policy_version(IamReader(iam), run, cfg, arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"


def test_joining_a_group_whose_policy_is_allow_listed_does_not_quarantine_the_user(
        iam: Any) -> None:
    cfg = config("quarantine", QUARANTINE_POLICY_ARN=quarantine_policy(iam),
                 ALLOWED_POLICIES=f"arn:aws:iam::{HOME}:policy/delegated-*")
    delegated = iam.create_policy(PolicyName="delegated-admin",
                                  PolicyDocument=ADMIN)["Policy"]["Arn"]
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=delegated)
    iam.create_user(UserName="ops")
    iam.add_user_to_group(GroupName="admins", UserName="ops")
    run = executor(cfg)
    check_group_join(IamReader(iam), run, cfg, "ops", "admins")
    assert iam.list_attached_user_policies(UserName="ops")["AttachedPolicies"] == []


def test_the_cross_account_execution_role_is_never_changed(iam: Any) -> None:
    # In a target account the guard works through ASSUME_ROLE_NAME; that role needs IAM writes
    # (pe-* findings) and is one of the stack's own roles: never changed.
    role(iam, "OpskitExecutionRole")
    iam.put_role_policy(RoleName="OpskitExecutionRole", PolicyName="opskit", PolicyDocument=
                        json.dumps(doc(allow(["iam:UpdateAssumeRolePolicy",
                                              "iam:SetDefaultPolicyVersion"]))))
    cfg = config()
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="role", name="OpskitExecutionRole",
                 policy_name="opskit")
    assert iam.list_role_policies(RoleName="OpskitExecutionRole")["PolicyNames"] == ["opskit"]


def test_stripping_an_external_principal_keeps_the_home_principal_of_the_same_statement(
        iam: Any) -> None:
    mixed = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": [
        f"arn:aws:iam::{HOME}:role/ci", f"arn:aws:iam::{STRANGER}:root"]}}
    iam.create_role(RoleName="ci", AssumeRolePolicyDocument=json.dumps(doc(EC2_TRUST)))
    role(iam, "deployer", trust_statements=[EC2_TRUST, mixed])
    cfg = config()
    run = executor(cfg)
    check_trust(IamReader(iam), run, cfg, "deployer", HOME)
    after = json.dumps(iam.get_role(RoleName="deployer")["Role"]["AssumeRolePolicyDocument"])
    assert f"arn:aws:iam::{HOME}:role/ci" in after, "the home CI role was locked out"


def test_allow_list_glob_cannot_be_matched_through_a_role_path() -> None:
    # IAM paths may hold ':' and '/': a glob's '*' crosses neither, so a role created under a
    # crafted path never matches a glob meant for break-glass role names.
    cfg = config(ALLOWED_PRINCIPALS="arn:aws:iam::*:role/break-glass-*")
    crafted = f"arn:aws:iam::{HOME}:role/x:role/break-glass-/intruder"
    assert not cfg.allow_listed_principal(crafted)


# ---- a renamed document and an exempt holder are left alone ----

def test_inline_name_reused_with_a_safe_document_is_not_deleted(iam: Any) -> None:
    role(iam, "app")
    iam.put_role_policy(RoleName="app", PolicyName="p", PolicyDocument=ADMIN)
    reader = IamReader(iam)
    original = reader.inline_policy
    calls: list[int] = []

    def swap(kind: Any, name: str, policy_name: str) -> Any:
        calls.append(1)
        if len(calls) == 2:  # the re-read: someone reused the name with a safe document
            return json.loads(S3_READ)
        return original(kind, name, policy_name)

    reader.inline_policy = swap  # type: ignore[method-assign]
    cfg = config()
    run = executor(cfg)
    check_inline(reader, run, cfg, kind="role", name="app", policy_name="p")
    assert iam.list_role_policies(RoleName="app")["PolicyNames"] == ["p"]


def test_aws_managed_admin_on_a_break_glass_user_tagged_exempt_is_kept(iam: Any) -> None:
    admin = seed.aws_managed_policy("AdministratorAccess")
    iam.create_user(UserName="break-glass", Tags=[{"Key": "opskit:exempt", "Value": "true"}])
    iam.attach_user_policy(UserName="break-glass", PolicyArn=admin)
    cfg = config()
    run = executor(cfg)
    check_attachment(IamReader(iam), run, cfg, kind="user", name="break-glass", policy_arn=admin)
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(
        UserName="break-glass")["AttachedPolicies"]] == [admin]
