"""The rule table against a corpus of real-shaped policies, each with its expected findings."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from iam_policy_guard.documents import PolicyError
from iam_policy_guard.rules import (
    RULES,
    TrustContext,
    attachment_findings,
    permission_findings,
    trust_findings,
)

HOME = "123456789012"
ORG = "o-a1b2c3d4e5"
PARTNER = "210987654321"  # allowed by configuration
STRANGER = "999988887777"
CONTEXT = TrustContext(HOME, frozenset({PARTNER}), ORG)


def allow(action: Any, resource: Any = "*", condition: Any = None, **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
    if condition:
        statement["Condition"] = condition
    return statement


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ROLE = f"arn:aws:iam::{HOME}:role/app-worker"
USER_SELF = "arn:aws:iam::*:user/${aws:username}"
PERMISSION_CORPUS: list[tuple[str, Any, set[str]]] = [
    ("admin-star", doc(allow("*")), {"full-admin"}),
    ("admin-star-colon-star", doc(allow("*:*")), {"full-admin"}),
    ("admin-single-statement-object", {"Version": "2012-10-17", "Statement": allow("*")},
     {"full-admin"}),
    ("admin-json-string", json.dumps(doc(allow("*"))), {"full-admin"}),
    ("admin-url-encoded", quote(json.dumps(doc(allow("*")))), {"full-admin"}),
    ("admin-with-mfa-condition", doc(allow("*", condition={
        "Bool": {"aws:MultiFactorAuthPresent": "true"}})), {"full-admin"}),
    ("admin-despite-deny-iam", doc(allow("*"), {"Effect": "Deny", "Action": "iam:*",
                                                "Resource": "*"}), {"full-admin"}),
    ("admin-in-list-action", doc(allow(["s3:GetObject", "*"])), {"full-admin"}),
    ("star-on-one-bucket", doc(allow("*", "arn:aws:s3:::acme-data/*")), set()),
    ("deny-star-only", doc({"Effect": "Deny", "Action": "*", "Resource": "*"}), set()),
    ("not-action-iam", doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
     {"allow-not-action"}),
    ("not-action-power-user", doc({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*",
                                                                    "account:*"],
                                   "Resource": "*"}), {"allow-not-action"}),
    ("not-action-on-bucket-only", doc({"Effect": "Allow", "NotAction": "s3:DeleteBucket",
                                       "Resource": "arn:aws:s3:::acme-data"}), set()),
    ("deny-not-action", doc({"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}), set()),
    ("iam-star", doc(allow("iam:*")), {"sensitive-service-wildcard"}),
    ("iam-star-upper-case", doc(allow("IAM:*")), {"sensitive-service-wildcard"}),
    ("iam-star-on-role-path", doc(allow("iam:*", f"arn:aws:iam::{HOME}:role/app/*")),
     {"sensitive-service-wildcard"}),
    # One named role: what it holds is not read without IAM (the guard reads it).
    ("iam-star-one-role", doc(allow("iam:*", ROLE)), {"pe-named-principal"}),
    ("sts-star", doc(allow("sts:*")), {"sensitive-service-wildcard"}),
    ("kms-star", doc(allow("kms:*")), {"sensitive-service-wildcard"}),
    ("kms-star-one-key", doc(allow("kms:*", f"arn:aws:kms:eu-west-1:{HOME}:key/1234abcd-12ab"
                                            "-34cd-56ef-1234567890ab")), set()),
    ("organizations-star", doc(allow("organizations:*")), {"sensitive-service-wildcard"}),
    ("cloudtrail-star", doc(allow("cloudtrail:*")), {"sensitive-service-wildcard"}),
    ("sso-star", doc(allow("sso:*")), {"sensitive-service-wildcard"}),
    ("account-star", doc(allow("account:*")), {"sensitive-service-wildcard"}),
    ("prefix-wildcard-i-star", doc(allow("i*:*")), {"sensitive-service-wildcard"}),
    ("s3-star", doc(allow("s3:*")), set()),
    ("ec2-star", doc(allow("ec2:*")), set()),
    ("read-only-iam", doc(allow(["iam:Get*", "iam:List*"])), set()),
    ("kms-decrypt-only", doc(allow(["kms:Decrypt", "kms:GenerateDataKey"])), set()),
    ("create-policy-version", doc(allow("iam:CreatePolicyVersion")),
     {"pe-create-policy-version"}),
    ("create-policy-version-one-policy", doc(allow(
        "iam:CreatePolicyVersion", f"arn:aws:iam::{HOME}:policy/app-deploy")), set()),
    ("set-default-version", doc(allow("iam:SetDefaultPolicyVersion")),
     {"pe-set-default-policy-version"}),
    ("create-access-key-any-user", doc(allow("iam:CreateAccessKey")), {"pe-create-access-key"}),
    ("create-access-key-self", doc(allow(["iam:CreateAccessKey", "iam:DeleteAccessKey",
                                          "iam:ListAccessKeys"], USER_SELF)), set()),
    ("create-login-profile", doc(allow("iam:CreateLoginProfile")), {"pe-login-profile"}),
    ("update-login-profile-users", doc(allow("iam:UpdateLoginProfile",
                                             f"arn:aws:iam::{HOME}:user/*")),
     {"pe-login-profile"}),
    ("change-own-password", doc(allow(["iam:ChangePassword", "iam:UpdateLoginProfile"],
                                      USER_SELF)), set()),
    ("attach-role-policy", doc(allow("iam:AttachRolePolicy")), {"pe-attach-policy"}),
    ("attach-user-policy", doc(allow("iam:AttachUserPolicy")), {"pe-attach-policy"}),
    ("attach-group-policy-lowercase", doc(allow("iam:attachgrouppolicy")),
     {"pe-attach-policy"}),
    ("attach-wildcard", doc(allow("iam:Attach*")), {"pe-attach-policy"}),
    # iam:PolicyARN narrows only when the policies it names are read and harmless: the pure
    # analysis reads none (the guard does, test_escalation_paths.py).
    ("attach-policy-arn-of-an-unread-policy", doc(allow("iam:AttachRolePolicy", condition={
        "ArnEquals": {"iam:PolicyARN": f"arn:aws:iam::{HOME}:policy/app-read"}})),
     {"pe-attach-policy"}),
    ("attach-policy-arn-star-does-not-narrow", doc(allow("iam:AttachRolePolicy", condition={
        "ArnLike": {"iam:PolicyARN": "*"}})), {"pe-attach-policy"}),
    ("attach-policy-arn-not-equals-does-not-narrow", doc(allow("iam:AttachUserPolicy", condition={
        "ArnNotEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}})),
     {"pe-attach-policy"}),
    ("attach-policy-arn-administrator-access", doc(allow("iam:AttachUserPolicy", condition={
        "ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}})),
     {"pe-attach-policy"}),
    ("attach-policy-arn-if-exists", doc(allow("iam:AttachRolePolicy", condition={
        "ArnEqualsIfExists": {"iam:PolicyARN": f"arn:aws:iam::{HOME}:policy/app-read"}})),
     {"pe-attach-policy"}),
    ("iam-star-on-self", doc(allow("iam:*", USER_SELF)), {"sensitive-service-wildcard"}),
    ("put-role-policy", doc(allow("iam:PutRolePolicy")), {"pe-put-policy"}),
    ("put-user-policy-with-boundary", doc(allow(["iam:PutUserPolicy"], condition={
        "StringEquals": {"iam:PermissionsBoundary":
                         f"arn:aws:iam::{HOME}:policy/developer-boundary"}})), set()),
    ("put-group-policy", doc(allow("iam:PutGroupPolicy")), {"pe-put-policy"}),
    ("add-user-to-group", doc(allow("iam:AddUserToGroup")), {"pe-add-user-to-group"}),
    ("update-assume-role-policy", doc(allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"])),
     {"pe-update-assume-role-policy"}),
    ("iam-create-star", doc(allow("iam:Create*")),
     {"pe-create-policy-version", "pe-create-access-key", "pe-login-profile"}),
    ("attach-user-policy-on-self-account-spelled-out", doc(allow(
        "iam:AttachUserPolicy", f"arn:aws:iam::{HOME}:user/${{aws:username}}")),
     {"pe-attach-policy"}),
    ("attach-role-policy-on-a-tag-chosen-role", doc(allow(
        "iam:AttachRolePolicy", f"arn:aws:iam::{HOME}:role/${{aws:PrincipalTag/target}}")),
     {"pe-attach-policy"}),
    ("access-keys-on-self-account-spelled-out", doc(allow(
        "iam:CreateAccessKey", f"arn:aws:iam::{HOME}:user/${{aws:username}}")), set()),
    ("delete-boundaries", doc(allow(["iam:DeleteUserPermissionsBoundary",
                                     "iam:DeleteRolePermissionsBoundary"])),
     {"pe-permissions-boundary"}),
    ("bounded-delegation-that-can-drop-the-boundary", doc(
        allow("iam:AttachUserPolicy", condition={"StringEquals": {
            "iam:PermissionsBoundary": f"arn:aws:iam::{HOME}:policy/developer-boundary"}}),
        allow("iam:DeleteUserPermissionsBoundary")),
     {"pe-attach-policy", "pe-permissions-boundary"}),
    ("tag-any-principal", doc(allow(["iam:TagUser", "iam:TagRole"])), {"pe-tag-principal"}),
    ("tag-any-policy", doc(allow("iam:TagPolicy")), {"pe-tag-principal"}),
    ("untag-any-policy", doc(allow("iam:UntagPolicy")), {"pe-tag-principal"}),
    ("tag-policy-other-keys-only", doc(allow(["iam:TagPolicy", "iam:UntagPolicy"], condition={
        "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost-center"]}})), set()),
    ("tag-principals-with-team-keys-only", doc(allow(["iam:TagUser", "iam:TagRole"], condition={
        "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost-center"]}})), set()),
    ("iam-put-and-attach", doc(allow(["iam:Put*", "iam:Attach*"])),
     {"pe-put-policy", "pe-attach-policy", "pe-permissions-boundary"}),
    ("passrole-ec2", doc(allow("iam:PassRole"), allow("ec2:RunInstances")), {"pe-passrole-ec2"}),
    ("passrole-ec2-one-statement", doc(allow(["iam:PassRole", "ec2:RunInstances"])),
     {"pe-passrole-ec2"}),
    ("passrole-one-role-ec2", doc(allow("iam:PassRole", ROLE), allow("ec2:RunInstances")),
     {"pe-named-principal"}),
    ("passrole-one-role-no-compute", doc(allow("iam:PassRole", ROLE)), set()),
    ("create-access-key-one-user", doc(allow(
        "iam:CreateAccessKey", f"arn:aws:iam::{HOME}:user/ops-admin")), {"pe-named-principal"}),
    ("login-profile-one-user", doc(allow(
        ["iam:CreateLoginProfile", "iam:UpdateLoginProfile"],
        f"arn:aws:iam::{HOME}:user/ops-admin")), {"pe-named-principal"}),
    ("add-user-to-one-group", doc(allow(
        "iam:AddUserToGroup", f"arn:aws:iam::{HOME}:group/admins")), {"pe-named-principal"}),
    ("update-trust-of-one-role-and-assume", doc(allow(
        ["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], ROLE)), {"pe-named-principal"}),
    ("update-trust-of-one-role-without-assume", doc(allow("iam:UpdateAssumeRolePolicy", ROLE)),
     set()),
    ("attach-policy-on-one-named-user", doc(allow(
        "iam:AttachUserPolicy", f"arn:aws:iam::{HOME}:user/bob")), {"pe-named-principal"}),
    ("passrole-to-lambda-only-with-ec2", doc(allow("iam:PassRole", condition={
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
                                           allow("ec2:RunInstances")), set()),
    ("passrole-to-ec2-with-ec2", doc(allow("iam:PassRole", condition={
        "StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
                                   allow("ec2:RunInstances")), {"pe-passrole-ec2"}),
    ("passrole-alone", doc(allow("iam:PassRole")), set()),
    ("ec2-run-alone", doc(allow(["ec2:RunInstances", "ec2:Describe*"])), set()),
    ("passrole-lambda-invoke", doc(allow(["iam:PassRole", "lambda:CreateFunction",
                                          "lambda:InvokeFunction"])), {"pe-passrole-lambda"}),
    ("passrole-lambda-event-source", doc(allow("iam:PassRole"), allow(
        ["lambda:CreateFunction", "lambda:CreateEventSourceMapping"])), {"pe-passrole-lambda"}),
    ("lambda-create-without-invoke", doc(allow(["iam:PassRole", "lambda:CreateFunction"])),
     set()),
    ("lambda-star-with-passrole", doc(allow(["iam:PassRole", "lambda:*"])),
     {"pe-passrole-lambda", "pe-passrole-lambda-update", "pe-update-function-code"}),
    ("update-function-code", doc(allow("lambda:UpdateFunctionCode")),
     {"pe-update-function-code"}),
    ("update-function-code-one-function", doc(allow(
        "lambda:UpdateFunctionCode", f"arn:aws:lambda:eu-west-1:{HOME}:function:api")), set()),
    ("passrole-glue-dev-endpoint", doc(allow(["iam:PassRole", "glue:CreateDevEndpoint"])),
     {"pe-passrole-glue"}),
    ("glue-update-dev-endpoint", doc(allow("glue:UpdateDevEndpoint")),
     {"pe-glue-update-dev-endpoint"}),
    ("passrole-cloudformation", doc(allow(["iam:PassRole", "cloudformation:CreateStack"])),
     {"pe-passrole-cloudformation"}),
    ("cloudformation-without-passrole", doc(allow("cloudformation:*")), set()),
    ("passrole-datapipeline", doc(allow(["iam:PassRole", "datapipeline:CreatePipeline",
                                         "datapipeline:PutPipelineDefinition"])),
     {"pe-passrole-datapipeline"}),
    ("passrole-ecs", doc(allow(["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"])),
     {"pe-passrole-ecs"}),
    ("passrole-codebuild", doc(allow(["iam:PassRole", "codebuild:CreateProject",
                                      "codebuild:StartBuild"])),
     {"pe-passrole-codebuild", "pe-codebuild-start-build"}),
    # Run code as what an instance, a project, a stack or a job already holds.
    ("ssm-send-command", doc(allow("ssm:SendCommand")), {"pe-ssm-send-command"}),
    ("ssm-send-command-one-instance", doc(allow(
        "ssm:SendCommand", f"arn:aws:ec2:eu-west-1:{HOME}:instance/i-0abc")), set()),
    ("ssm-start-session", doc(allow("ssm:StartSession")), {"pe-ssm-start-session"}),
    ("ec2-instance-connect", doc(allow("ec2-instance-connect:SendSSHPublicKey")),
     {"pe-ec2-instance-connect"}),
    ("codebuild-start-build", doc(allow("codebuild:StartBuild")), {"pe-codebuild-start-build"}),
    ("codebuild-start-build-one-project", doc(allow(
        "codebuild:StartBuild", f"arn:aws:codebuild:eu-west-1:{HOME}:project/api")), set()),
    ("passrole-associate-instance-profile", doc(allow(
        ["iam:PassRole", "ec2:AssociateIamInstanceProfile"])),
     {"pe-passrole-ec2-instance-profile"}),
    ("passrole-replace-instance-profile", doc(allow(
        ["iam:PassRole", "ec2:ReplaceIamInstanceProfileAssociation"])),
     {"pe-passrole-ec2-instance-profile"}),
    ("passrole-instance-profile-to-lambda-only", doc(allow(
        "iam:PassRole", condition={"StringEquals": {
            "iam:PassedToService": "lambda.amazonaws.com"}}),
        allow("ec2:AssociateIamInstanceProfile")), set()),
    ("passrole-cloudformation-update-stack", doc(allow(
        ["iam:PassRole", "cloudformation:UpdateStack"])), {"pe-passrole-cloudformation-update"}),
    ("passrole-cloudformation-change-set", doc(allow(
        ["iam:PassRole", "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"])),
     {"pe-passrole-cloudformation-change-set"}),
    ("passrole-cloudformation-change-set-not-executed", doc(allow(
        ["iam:PassRole", "cloudformation:CreateChangeSet"])), set()),
    ("passrole-sagemaker-training-job", doc(allow(
        ["iam:PassRole", "sagemaker:CreateTrainingJob"])), {"pe-passrole-sagemaker-job"}),
    ("passrole-sagemaker-processing-job", doc(allow(
        ["iam:PassRole", "sagemaker:CreateProcessingJob"])), {"pe-passrole-sagemaker-job"}),
    ("passrole-lambda-update-configuration", doc(allow(
        ["iam:PassRole", "lambda:UpdateFunctionConfiguration", "lambda:InvokeFunction"])),
     {"pe-passrole-lambda-update"}),
    ("lambda-update-configuration-without-passrole", doc(allow(
        ["lambda:UpdateFunctionConfiguration", "lambda:InvokeFunction"])), set()),
    ("passrole-glue-update-job", doc(allow(
        ["iam:PassRole", "glue:UpdateJob", "glue:StartJobRun"])), {"pe-passrole-glue-update"}),
    ("glue-update-job-not-run", doc(allow(["iam:PassRole", "glue:UpdateJob"])), set()),
    ("passrole-sagemaker", doc(allow(["iam:PassRole", "sagemaker:CreateNotebookInstance",
                                      "sagemaker:CreatePresignedNotebookInstanceUrl"])),
     {"pe-passrole-sagemaker"}),
    ("iam-star-with-ec2-run", doc(allow(["iam:*", "ec2:RunInstances"])),
     {"sensitive-service-wildcard", "pe-passrole-ec2"}),
    ("iam-star-and-kms-star", doc(allow("iam:*"), allow("kms:*")),
     {"sensitive-service-wildcard"}),
    ("not-resource-attach", doc({"Effect": "Allow", "Action": "iam:AttachRolePolicy",
                                 "NotResource": ROLE}), {"pe-attach-policy"}),
    ("deny-passrole-then-allow-ec2", doc({"Effect": "Deny", "Action": "iam:PassRole",
                                          "Resource": "*"}, allow("ec2:RunInstances")), set()),
    ("s3-read-only", doc(allow(["s3:GetObject", "s3:ListBucket"],
                               ["arn:aws:s3:::acme-data", "arn:aws:s3:::acme-data/*"])), set()),
    ("cloudwatch-logs-writer", doc(allow(["logs:CreateLogStream", "logs:PutLogEvents"],
                                         f"arn:aws:logs:eu-west-1:{HOME}:log-group:/app/*")),
     set()),
]


@pytest.mark.parametrize(("name", "document", "expected"), PERMISSION_CORPUS,
                         ids=[row[0] for row in PERMISSION_CORPUS])
def test_permission_policy(name: str, document: Any, expected: set[str]) -> None:
    findings = permission_findings(document)
    assert {f.rule.id for f in findings} == expected, name
    for finding in findings:
        assert finding.statements, "every finding names the statements causing it"


def trust(principal: Any, condition: Any = None, action: Any = "sts:AssumeRole",
          **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action,
                                 **extra}
    if condition:
        statement["Condition"] = condition
    return doc(statement)


TRUST_CORPUS: list[tuple[str, Any, set[str]]] = [
    ("ec2-service", trust({"Service": "ec2.amazonaws.com"}), set()),
    ("lambda-service", trust({"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]}),
     set()),
    ("same-account-root", trust({"AWS": f"arn:aws:iam::{HOME}:root"}), set()),
    ("same-account-id", trust({"AWS": HOME}), set()),
    ("anyone-star", trust("*"), {"trust-anyone"}),
    ("anyone-aws-star", trust({"AWS": "*"}), {"trust-anyone"}),
    ("anyone-aws-star-in-list", trust({"AWS": ["*"]}), {"trust-anyone"}),
    ("anyone-with-org", trust({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": ORG}}), set()),
    # The external ID is not a secret (IAM User Guide, third-party access): it does not narrow "*".
    ("anyone-with-external-id", trust({"AWS": "*"}, {"StringEquals": {
        "sts:ExternalId": "7f3c2a9e-partner"}}), {"trust-anyone"}),
    ("partner-with-external-id", trust({"AWS": f"arn:aws:iam::{PARTNER}:root"}, {"StringEquals": {
        "sts:ExternalId": "7f3c2a9e-partner"}}), set()),
    ("anyone-with-principal-arn-in-home", trust("*", {"ArnLike": {
        "aws:PrincipalArn": f"arn:aws:iam::{HOME}:role/ci-*"}}), set()),
    ("anyone-with-org-path", trust("*", {"ForAnyValue:StringLike": {
        "aws:PrincipalOrgPaths": f"{ORG}/r-ab12/ou-ab12-11111111/*"}}), set()),
    ("anyone-with-partner-account", trust("*", {"StringEquals": {
        "aws:PrincipalAccount": PARTNER}}), set()),
    ("anyone-with-source-account", trust("*", {"StringEquals": {"aws:SourceAccount": HOME}}),
     set()),
    ("anyone-with-wildcard-org", trust("*", {"StringLike": {"aws:PrincipalOrgID": "*"}}),
     {"trust-anyone"}),
    ("anyone-with-mfa-only", trust("*", {"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
     {"trust-anyone"}),
    ("not-principal", doc({"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{HOME}:root"},
                           "Action": "sts:AssumeRole"}), {"trust-anyone"}),
    ("stranger-account", trust({"AWS": f"arn:aws:iam::{STRANGER}:root"}),
     {"trust-external-account"}),
    ("stranger-role", trust({"AWS": [f"arn:aws:iam::{HOME}:role/ci",
                                      f"arn:aws:iam::{STRANGER}:role/deployer"]}),
     {"trust-external-account"}),
    ("stranger-bare-id", trust({"AWS": STRANGER}), {"trust-external-account"}),
    ("partner-allowed", trust({"AWS": f"arn:aws:iam::{PARTNER}:root"}), set()),
    ("stranger-in-our-org", trust({"AWS": f"arn:aws:iam::{STRANGER}:root"},
                                  {"StringEquals": {"aws:PrincipalOrgID": ORG}}), set()),
    ("stranger-other-org", trust({"AWS": f"arn:aws:iam::{STRANGER}:root"},
                                 {"StringEquals": {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}}),
     {"trust-external-account"}),
    ("anyone-deny", doc({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}), set()),
    ("anyone-tag-session-only", trust("*", action="sts:TagSession"), set()),
    ("anyone-web-identity", trust("*", action="sts:AssumeRoleWithWebIdentity"),
     {"trust-anyone"}),
    # aud alone: any repository of any GitHub user gets a token with this audience.
    ("github-oidc-federated", trust({"Federated": f"arn:aws:iam::{HOME}:oidc-provider/"
                                     "token.actions.githubusercontent.com"}, {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
        action="sts:AssumeRoleWithWebIdentity"), {"trust-federated-unpinned"}),
    ("github-oidc-pinned-repo", trust({"Federated": f"arn:aws:iam::{HOME}:oidc-provider/"
                                       "token.actions.githubusercontent.com"}, {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/deploy:*"}},
        action="sts:AssumeRoleWithWebIdentity"), set()),
    ("github-oidc-any-repo", trust({"Federated": f"arn:aws:iam::{HOME}:oidc-provider/"
                                    "token.actions.githubusercontent.com"}, {
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}},
        action="sts:AssumeRoleWithWebIdentity"), {"trust-federated-unpinned"}),
    ("cognito-pinned-pool", trust({"Federated": "cognito-identity.amazonaws.com"}, {
        "StringEquals": {"cognito-identity.amazonaws.com:aud":
                         "us-east-1:12345678-abcd-1234-abcd-123456789012"}},
        action="sts:AssumeRoleWithWebIdentity"), set()),
    ("saml-federated", trust({"Federated": f"arn:aws:iam::{HOME}:saml-provider/okta"}, {
        "StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
        action="sts:AssumeRoleWithSAML"), set()),
    ("json-string-anyone", json.dumps(trust("*")), {"trust-anyone"}),
    ("url-encoded-stranger", quote(json.dumps(trust({"AWS": STRANGER}))),
     {"trust-external-account"}),
]


@pytest.mark.parametrize(("name", "document", "expected"), TRUST_CORPUS,
                         ids=[row[0] for row in TRUST_CORPUS])
def test_trust_policy(name: str, document: Any, expected: set[str]) -> None:
    findings = trust_findings(document, CONTEXT)
    assert {f.rule.id for f in findings} == expected, name


def test_the_corpus_is_large_enough() -> None:
    assert len(PERMISSION_CORPUS) + len(TRUST_CORPUS) >= 60


@pytest.mark.parametrize(("kind", "arn", "expected"), [
    ("user", "arn:aws:iam::aws:policy/AdministratorAccess", {"aws-admin-on-user"}),
    ("group", "arn:aws:iam::aws:policy/AdministratorAccess", {"aws-admin-on-user"}),
    ("role", "arn:aws:iam::aws:policy/AdministratorAccess", set()),
    ("user", "arn:aws:iam::aws:policy/ReadOnlyAccess", set()),
    ("user", f"arn:aws:iam::{HOME}:policy/AdministratorAccess", set()),
])
def test_attachment(kind: str, arn: str, expected: set[str]) -> None:
    assert {f.rule.id for f in attachment_findings(kind, arn)} == expected


@pytest.mark.parametrize("document", ["", "not json", "[1]", {"Statement": 3},
                                      {"Statement": [{"Effect": "Maybe", "Action": "*"}]},
                                      {"Statement": [{"Effect": "Allow", "Action": 5}]}])
def test_a_document_that_is_not_a_policy_is_refused(document: Any) -> None:
    with pytest.raises(PolicyError):
        permission_findings(document)


def test_every_rule_cites_a_source() -> None:
    for rule in RULES.values():
        assert rule.source.startswith("https://"), rule.id


def test_finding_names_its_statement() -> None:
    (finding,) = permission_findings(doc(allow("s3:GetObject"), {**allow("iam:*"), "Sid": "Ops"}))
    assert finding.to_dict()["statements"] == ["statement 1 (Ops)"]
