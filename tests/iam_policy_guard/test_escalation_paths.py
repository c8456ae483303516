"""Escalation paths the guard finds: AWS managed AdministratorAccess on a role, grants split over
several policies of one principal, self-targeted policy writes, permissions boundaries that can
be lifted, iam:PolicyARN naming a policy that is itself dangerous, and the guard's own tags
writable by anyone who may tag."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iam_policy_guard.app import _check
from iam_policy_guard.events import CALLS, IamChange
from iam_policy_guard.guard import check_attachment, check_inline, check_principal, sweep
from iam_policy_guard.inventory import IamReader
from iam_policy_guard.rules import Scope, combined_findings, permission_findings
from opskit.actions import Executor
from tests.iam_policy_guard import seed
from tests.iam_policy_guard.test_guarantees import (
    ADMIN,
    HOME,
    S3_READ,
    allow,
    config,
    doc,
    executor,
    iam,  # noqa: F401 (fixture)
    ids,
    role,
)

BOUNDED = {"StringEquals": {"iam:PermissionsBoundary":
                            f"arn:aws:iam::{HOME}:policy/developer-boundary"}}


def found(run: Executor) -> list[Any]:
    return [o for o in run.outcomes if o.action.action != "inspect"]


def rules_of(run: Executor) -> set[str]:
    return {f["rule"] for o in found(run) for f in o.action.details.get("findings", [])}


# ---- AWS managed AdministratorAccess ----------------------------------------------------------

def test_administrator_access_attached_to_a_role_is_critical_full_admin(
        iam: Any) -> None:  # noqa: F811
    """A user allowed to attach policies to one fixed role it may assume becomes admin by
    attaching AdministratorAccess there: the attachment is judged by the policy's content."""
    admin = seed.aws_managed_policy("AdministratorAccess")
    role(iam, "app", trust_statements=[{"Effect": "Allow", "Action": "sts:AssumeRole",
                                        "Principal": {"AWS": f"arn:aws:iam::{HOME}:root"}}])
    iam.attach_role_policy(RoleName="app", PolicyArn=admin)
    cfg = config("report")
    run = executor(cfg)
    check_attachment(IamReader(iam), run, cfg, kind="role", name="app", policy_arn=admin)
    (outcome,) = found(run)
    assert outcome.action.resource == f"arn:aws:iam::{HOME}:role/app"
    assert [f["rule"] for f in outcome.action.details["findings"]] == ["full-admin"]
    assert outcome.action.details["findings"][0]["severity"] == "critical"


def test_administrator_access_attached_to_a_role_is_detached_in_remediate_mode(
        iam: Any) -> None:  # noqa: F811
    admin = seed.aws_managed_policy("AdministratorAccess")
    role(iam, "app")
    iam.attach_role_policy(RoleName="app", PolicyArn=admin)
    cfg = config("remediate")
    run = executor(cfg)
    check_attachment(IamReader(iam), run, cfg, kind="role", name="app", policy_arn=admin)
    assert iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"] == []
    assert [o.action.action for o in found(run)] == ["detach-policy"]


# ---- several policies of one principal ---------------------------------------------------------

def test_passrole_and_lambda_split_over_two_inline_policies_are_reported_together(
        iam: Any) -> None:  # noqa: F811
    iam.create_user(UserName="dev")
    iam.put_user_policy(UserName="dev", PolicyName="pass", PolicyDocument=json.dumps(
        doc(allow("iam:PassRole"))))
    iam.put_user_policy(UserName="dev", PolicyName="functions", PolicyDocument=json.dumps(
        doc(allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))))
    cfg = config("report")
    run = executor(cfg)
    check_principal(IamReader(iam), run, cfg, "user", "dev")
    (outcome,) = found(run)
    assert outcome.action.details["subject"] == "policies of user dev together"
    assert rules_of(run) == {"pe-passrole-lambda"}
    (finding,) = outcome.action.details["findings"]
    assert finding["statements"] == ["statement 0 of inline policy pass of user dev",
                                     "statement 0 of inline policy functions of user dev"]


def test_a_combination_is_never_remediated_by_deleting_one_of_its_policies(
        iam: Any) -> None:  # noqa: F811
    iam.create_user(UserName="dev")
    iam.put_user_policy(UserName="dev", PolicyName="pass", PolicyDocument=json.dumps(
        doc(allow("iam:PassRole"))))
    iam.put_user_policy(UserName="dev", PolicyName="instances", PolicyDocument=json.dumps(
        doc(allow("ec2:RunInstances"))))
    cfg = config("remediate")
    run = executor(cfg)
    check_principal(IamReader(iam), run, cfg, "user", "dev")
    assert sorted(iam.list_user_policies(UserName="dev")["PolicyNames"]) == ["instances", "pass"]
    (outcome,) = found(run)
    assert outcome.action.action == "report-dangerous-iam"
    assert "several policies" in outcome.action.details["no_remedy"]


def test_a_combination_is_quarantined_in_quarantine_mode(iam: Any) -> None:  # noqa: F811
    from tests.iam_policy_guard.test_guarantees import quarantine_policy

    arn = quarantine_policy(iam)
    role(iam, "builder")
    iam.put_role_policy(RoleName="builder", PolicyName="pass", PolicyDocument=json.dumps(
        doc(allow("iam:PassRole"))))
    iam.put_role_policy(RoleName="builder", PolicyName="instances", PolicyDocument=json.dumps(
        doc(allow("ec2:RunInstances"))))
    cfg = config("quarantine", QUARANTINE_POLICY_ARN=arn)
    run = executor(cfg)
    check_principal(IamReader(iam), run, cfg, "role", "builder")
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(
        RoleName="builder")["AttachedPolicies"]] == [arn]


def test_the_sweep_combines_a_users_policies_with_its_groups(iam: Any) -> None:  # noqa: F811
    iam.create_group(GroupName="builders")
    iam.put_group_policy(GroupName="builders", PolicyName="instances", PolicyDocument=json.dumps(
        doc(allow("ec2:RunInstances"))))
    iam.create_user(UserName="dev")
    iam.add_user_to_group(GroupName="builders", UserName="dev")
    iam.put_user_policy(UserName="dev", PolicyName="pass", PolicyDocument=json.dumps(
        doc(allow("iam:PassRole"))))
    cfg = config("report")
    run = executor(cfg)
    sweep(IamReader(iam), run, cfg, HOME)
    (outcome,) = found(run)
    assert outcome.action.resource == f"arn:aws:iam::{HOME}:user/dev"
    assert rules_of(run) == {"pe-passrole-ec2"}


def test_the_sweep_combines_customer_and_aws_managed_policies(iam: Any) -> None:  # noqa: F811
    ec2_full = seed.aws_managed_policy("AmazonEC2FullAccess")
    passing = iam.create_policy(PolicyName="pass-any", PolicyDocument=json.dumps(
        doc(allow("iam:PassRole"))))["Policy"]["Arn"]
    role(iam, "deployer")
    iam.attach_role_policy(RoleName="deployer", PolicyArn=passing)
    iam.attach_role_policy(RoleName="deployer", PolicyArn=ec2_full)
    cfg = config("report")
    run = executor(cfg)
    sweep(IamReader(iam), run, cfg, HOME)
    (outcome,) = found(run)
    assert outcome.action.details["subject"] == "policies of role deployer together"
    assert rules_of(run) == {"pe-passrole-ec2", "pe-passrole-ec2-instance-profile"}


def test_a_grant_found_in_one_policy_is_not_reported_again_as_a_combination() -> None:
    documents = [("a", doc(allow(["iam:PassRole", "ec2:RunInstances"]))),
                 ("b", doc(allow("s3:GetObject")))]
    assert combined_findings(documents) == []


def test_policies_that_are_harmless_together_are_not_reported(iam: Any) -> None:  # noqa: F811
    iam.create_user(UserName="dev")
    iam.put_user_policy(UserName="dev", PolicyName="read", PolicyDocument=S3_READ)
    iam.put_user_policy(UserName="dev", PolicyName="pass-one", PolicyDocument=json.dumps(
        doc(allow("iam:PassRole", f"arn:aws:iam::{HOME}:role/app-worker"))))
    cfg = config("report")
    run = executor(cfg)
    check_principal(IamReader(iam), run, cfg, "user", "dev")
    assert found(run) == []


# ---- resources the caller chooses ---------------------------------------------------------------

@pytest.mark.parametrize(("action", "rule"), [("iam:AttachUserPolicy", "pe-attach-policy"),
                                              ("iam:PutUserPolicy", "pe-put-policy")])
def test_policy_writes_on_ones_own_user_are_escalation_with_the_account_spelled_out(
        action: str, rule: str) -> None:
    document = doc(allow(action, f"arn:aws:iam::{HOME}:user/${{aws:username}}"))
    assert rule in ids(permission_findings(document))


def test_a_policy_variable_in_a_resource_is_not_one_fixed_arn() -> None:
    document = doc(allow("iam:AttachRolePolicy",
                         f"arn:aws:iam::{HOME}:role/${{aws:PrincipalTag/target}}"))
    assert "pe-attach-policy" in ids(permission_findings(document))


@pytest.mark.parametrize("action", ["iam:CreateAccessKey", "iam:CreateLoginProfile",
                                    "iam:UpdateLoginProfile"])
def test_managing_ones_own_credentials_is_not_escalation(action: str) -> None:
    document = doc(allow(action, f"arn:aws:iam::{HOME}:user/${{aws:username}}"))
    assert permission_findings(document) == []


def test_own_credentials_under_a_variable_path_are_not_self_service() -> None:
    document = doc(allow("iam:CreateAccessKey",
                         f"arn:aws:iam::{HOME}:user/${{aws:PrincipalTag/team}}/"
                         "${aws:username}"))
    assert "pe-create-access-key" in ids(permission_findings(document))


# ---- permissions boundaries ---------------------------------------------------------------------

def test_a_boundary_condition_narrows_attach_when_the_boundary_stays() -> None:
    assert permission_findings(doc(allow("iam:AttachUserPolicy", "*", BOUNDED))) == []


@pytest.mark.parametrize("removal", ["iam:DeleteUserPermissionsBoundary",
                                     "iam:DeleteRolePermissionsBoundary",
                                     "iam:PutUserPermissionsBoundary",
                                     "iam:PutRolePermissionsBoundary"])
def test_a_boundary_the_holder_may_lift_narrows_nothing(removal: str) -> None:
    document = doc(allow(["iam:AttachUserPolicy", "iam:PutRolePolicy"], "*", BOUNDED),
                   allow(removal))
    assert {"pe-permissions-boundary", "pe-attach-policy", "pe-put-policy"} <= ids(
        permission_findings(document))


def test_lifting_any_boundary_is_escalation_alone() -> None:
    assert ids(permission_findings(doc(allow("iam:*Boundary*")))) == {"pe-permissions-boundary"}


def test_putting_only_a_given_boundary_is_not_lifting_it() -> None:
    document = doc(allow("iam:PutUserPermissionsBoundary", "*", BOUNDED))
    assert permission_findings(document) == []


def test_boundary_changes_are_watched() -> None:
    assert {"DeleteUserPermissionsBoundary", "DeleteRolePermissionsBoundary",
            "PutUserPermissionsBoundary", "PutRolePermissionsBoundary"} <= CALLS


# ---- iam:PolicyARN ------------------------------------------------------------------------------

def test_attach_limited_to_a_customer_admin_policy_is_escalation(iam: Any) -> None:  # noqa: F811
    ops_admin = iam.create_policy(PolicyName="ops-admin", PolicyDocument=ADMIN)["Policy"]["Arn"]
    iam.create_user(UserName="dev")
    iam.put_user_policy(UserName="dev", PolicyName="attach-ops", PolicyDocument=json.dumps(doc(
        allow("iam:AttachUserPolicy", "*", {"ArnEquals": {"iam:PolicyARN": ops_admin}}))))
    cfg = config("report")
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="user", name="dev", policy_name="attach-ops")
    assert rules_of(run) == {"pe-attach-policy"}


def test_attach_limited_to_a_harmless_customer_policy_is_not_escalation(
        iam: Any) -> None:  # noqa: F811
    app_read = iam.create_policy(PolicyName="app-read", PolicyDocument=S3_READ)["Policy"]["Arn"]
    iam.create_user(UserName="dev")
    iam.put_user_policy(UserName="dev", PolicyName="attach-read", PolicyDocument=json.dumps(doc(
        allow("iam:AttachUserPolicy", "*", {"ArnEquals": {"iam:PolicyARN": app_read}}))))
    cfg = config("report")
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="user", name="dev", policy_name="attach-read")
    assert found(run) == []


def test_attach_limited_to_aws_lambda_full_access_is_escalation(iam: Any) -> None:  # noqa: F811
    """AWSLambda_FullAccess is lambda:* with iam:PassRole to Lambda: pe-passrole-lambda one
    attach away. Without a reader the named policy is unknown: not narrowing either."""
    document = doc(allow("iam:AttachRolePolicy", "*", {"ArnEquals": {
        "iam:PolicyARN": "arn:aws:iam::aws:policy/AWSLambda_FullAccess"}}))
    assert "pe-attach-policy" in ids(permission_findings(document))
    lambda_full = seed.aws_managed_policy("AWSLambda_FullAccess")
    reader = IamReader(iam)
    assert "pe-attach-policy" in ids(permission_findings(document,
                                                         Scope(reader.policy_document)))
    assert reader.policy_document(lambda_full) is not None


def test_attach_limited_to_a_policy_that_does_not_exist_is_escalation(
        iam: Any) -> None:  # noqa: F811
    document = doc(allow("iam:AttachRolePolicy", "*", {"ArnEquals": {
        "iam:PolicyARN": f"arn:aws:iam::{HOME}:policy/created-later"}}))
    assert "pe-attach-policy" in ids(permission_findings(
        document, Scope(IamReader(iam).policy_document)))


# ---- the guard's own tags ----------------------------------------------------------------------

@pytest.mark.parametrize("action", ["iam:TagUser", "iam:TagRole", "iam:Tag*"])
def test_tagging_any_principal_is_reported(action: str) -> None:
    assert "pe-tag-principal" in ids(permission_findings(doc(allow(action))))


def test_tagging_with_keys_that_exclude_the_guards_is_not_reported() -> None:
    document = doc(allow(["iam:TagUser", "iam:TagRole"], "*", {
        "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost-center"]}}))
    assert permission_findings(document) == []


@pytest.mark.parametrize("keys", [["team", "opskit:exempt"], ["opskit:*"], ["*"]])
def test_tagging_with_keys_that_include_the_guards_is_reported(keys: list[str]) -> None:
    operator = "ForAllValues:StringLike" if any("*" in k for k in keys) else (
        "ForAllValues:StringEquals")
    document = doc(allow("iam:TagRole", "*", {operator: {"aws:TagKeys": keys}}))
    assert "pe-tag-principal" in ids(permission_findings(document))


def test_the_protected_tag_keys_follow_the_configuration() -> None:
    document = doc(allow("iam:TagUser", "*", {
        "ForAllValues:StringEquals": {"aws:TagKeys": ["opskit:exempt"]}}))
    assert permission_findings(document, Scope(protected_tags=("acme:skip",))) == []
    assert "pe-tag-principal" in ids(permission_findings(document))


def test_tagging_one_fixed_principal_is_not_reported() -> None:
    document = doc(allow("iam:TagRole", f"arn:aws:iam::{HOME}:role/app"))
    assert permission_findings(document) == []


def test_writing_the_guards_tags_is_watched() -> None:
    assert {"TagUser", "TagRole", "UntagUser", "UntagRole", "TagPolicy", "UntagPolicy"} <= CALLS


@pytest.mark.parametrize("action", ["iam:TagPolicy", "iam:UntagPolicy"])
def test_tagging_any_managed_policy_is_reported(action: str) -> None:
    # A policy's exemption tag decides whether a version of it is reverted.
    assert "pe-tag-principal" in ids(permission_findings(doc(allow(action))))


def test_tagging_policies_with_keys_that_exclude_the_guards_is_not_reported() -> None:
    document = doc(allow(["iam:TagPolicy", "iam:UntagPolicy"], "*", {
        "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}))
    assert permission_findings(document) == []


# ---- escalations aimed at one named principal ---------------------------------------------------

def user(iam: Any, name: str) -> None:  # noqa: F811
    iam.create_user(UserName=name)


@pytest.mark.parametrize(("action", "rule"), [("iam:AttachUserPolicy", "pe-attach-policy"),
                                              ("iam:PutUserPolicy", "pe-put-policy")])
def test_policy_writes_on_the_holders_own_fixed_arn_are_critical_escalation(
        action: str, rule: str) -> None:
    document = doc(allow(action, f"arn:aws:iam::{HOME}:user/bob"))
    (finding,) = permission_findings(document, Scope(holder=f"arn:aws:iam::{HOME}:user/bob"))
    assert (finding.rule.id, finding.rule.severity) == (rule, "critical")


def test_policy_writes_on_a_role_holders_own_arn_are_critical_escalation() -> None:
    document = doc(allow("iam:PutRolePolicy", f"arn:aws:iam::{HOME}:role/x"))
    assert ids(permission_findings(document, Scope(holder=f"arn:aws:iam::{HOME}:role/x"))) == {
        "pe-put-policy"}


def test_policy_writes_on_another_named_principal_are_not_the_holders_escalation() -> None:
    document = doc(allow("iam:AttachUserPolicy", f"arn:aws:iam::{HOME}:user/alice"))
    assert permission_findings(document, Scope(holder=f"arn:aws:iam::{HOME}:user/bob")) == []


def test_a_named_principal_escalation_is_a_warning_without_iam_access() -> None:
    document = doc(allow("iam:CreateAccessKey", f"arn:aws:iam::{HOME}:user/ops-admin"))
    (finding,) = permission_findings(document)
    assert (finding.rule.id, finding.rule.severity) == ("pe-named-principal", "warning")
    assert finding.detail == "iam:CreateAccessKey on user/ops-admin"


def test_the_guard_reports_a_policy_write_on_its_holders_own_user(iam: Any) -> None:  # noqa: F811
    user(iam, "bob")
    iam.put_user_policy(UserName="bob", PolicyName="self-admin", PolicyDocument=json.dumps(
        doc(allow("iam:AttachUserPolicy", f"arn:aws:iam::{HOME}:user/bob"))))
    cfg = config("report")
    run = executor(cfg)
    check_inline(IamReader(iam), run, cfg, kind="user", name="bob", policy_name="self-admin")
    assert rules_of(run) == {"pe-attach-policy"}


NAMED = [
    [allow("iam:CreateAccessKey", f"arn:aws:iam::{HOME}:user/ops-admin")],
    [allow("iam:UpdateLoginProfile", f"arn:aws:iam::{HOME}:user/ops-admin")],
    [allow("iam:CreateLoginProfile", f"arn:aws:iam::{HOME}:user/ops-admin")],
    [allow("iam:AddUserToGroup", f"arn:aws:iam::{HOME}:group/admins")],
    [allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], f"arn:aws:iam::{HOME}:role/admin")],
    [allow("iam:PassRole", f"arn:aws:iam::{HOME}:role/admin"),
     allow(["lambda:CreateFunction", "lambda:InvokeFunction"])],
]
NAMED_IDS = ["create-access-key", "update-login-profile", "create-login-profile",
             "add-user-to-group", "update-trust-and-assume", "passrole-to-lambda"]


def _named_principals(iam: Any, policy: str) -> None:  # noqa: F811
    document = iam.create_policy(PolicyName="held", PolicyDocument=policy)["Policy"]["Arn"]
    user(iam, "ops-admin")
    iam.attach_user_policy(UserName="ops-admin", PolicyArn=document)
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=document)
    role(iam, "admin")
    iam.attach_role_policy(RoleName="admin", PolicyArn=document)
    user(iam, "bob")


@pytest.mark.parametrize("statements", NAMED, ids=NAMED_IDS)
def test_acting_as_a_named_admin_principal_is_critical(iam: Any,  # noqa: F811
                                                       statements: list[Any]) -> None:
    _named_principals(iam, ADMIN)
    iam.put_user_policy(UserName="bob", PolicyName="helpdesk",
                        PolicyDocument=json.dumps(doc(*statements)))
    cfg = config("report")
    run = executor(cfg)
    check_principal(IamReader(iam), run, cfg, "user", "bob")
    assert rules_of(run) == {"pe-named-admin"}


@pytest.mark.parametrize("statements", NAMED, ids=NAMED_IDS)
def test_acting_as_a_named_principal_that_holds_nothing_dangerous_is_not_reported(
        iam: Any, statements: list[Any]) -> None:  # noqa: F811
    _named_principals(iam, S3_READ)
    iam.put_user_policy(UserName="bob", PolicyName="helpdesk",
                        PolicyDocument=json.dumps(doc(*statements)))
    cfg = config("report")
    run = executor(cfg)
    check_principal(IamReader(iam), run, cfg, "user", "bob")
    assert found(run) == []


# ---- the event path: what a principal holds together after a change --------------------------

PASS_ANY = json.dumps(doc(allow("iam:PassRole")))
RUN_EC2 = json.dumps(doc(allow("ec2:RunInstances")))


def test_a_put_user_policy_completing_a_split_escalation_is_reported(
        iam: Any) -> None:  # noqa: F811
    user(iam, "bob")
    iam.put_user_policy(UserName="bob", PolicyName="pass", PolicyDocument=PASS_ANY)
    iam.put_user_policy(UserName="bob", PolicyName="ec2", PolicyDocument=RUN_EC2)
    cfg = config("report")
    run = executor(cfg)
    _check(IamChange("PutUserPolicy", "user", "bob", policy_name="ec2"), IamReader(iam), run,
           cfg, HOME)
    assert rules_of(run) == {"pe-passrole-ec2"}


def test_a_group_policy_completing_a_members_escalation_is_reported(
        iam: Any) -> None:  # noqa: F811
    user(iam, "bob")
    iam.put_user_policy(UserName="bob", PolicyName="pass", PolicyDocument=PASS_ANY)
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="bob")
    iam.put_group_policy(GroupName="devs", PolicyName="ec2", PolicyDocument=RUN_EC2)
    cfg = config("report")
    run = executor(cfg)
    _check(IamChange("PutGroupPolicy", "group", "devs", policy_name="ec2"), IamReader(iam), run,
           cfg, HOME)
    (outcome,) = found(run)
    assert outcome.action.resource == f"arn:aws:iam::{HOME}:user/bob"
    assert rules_of(run) == {"pe-passrole-ec2"}


def test_an_attachment_completing_a_split_escalation_is_reported(iam: Any) -> None:  # noqa: F811
    user(iam, "bob")
    iam.put_user_policy(UserName="bob", PolicyName="pass", PolicyDocument=PASS_ANY)
    arn = iam.create_policy(PolicyName="ec2-run", PolicyDocument=RUN_EC2)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="bob", PolicyArn=arn)
    cfg = config("report")
    run = executor(cfg)
    _check(IamChange("AttachUserPolicy", "user", "bob", policy_arn=arn), IamReader(iam), run,
           cfg, HOME)
    assert rules_of(run) == {"pe-passrole-ec2"}
