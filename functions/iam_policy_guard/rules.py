"""The dangerous-IAM rule table and the analysis of one document against it (pure, no AWS).

Each rule cites what it is based on (docs/iam_policy_guard.md, Rules, has the table with its
sources): the IAM User Guide for the policy language, AdministratorAccess and trust policies;
Rhino Security Labs' "AWS IAM Privilege Escalation - Methods and Mitigation" and Bishop Fox's
iam-vulnerable for the privilege-escalation combinations. Only Allow statements grant: a Deny in
the same document is not subtracted (a Deny elsewhere, an SCP or a boundary may still narrow the
grant; the finding says what this document allows).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from iam_policy_guard.documents import (
    PolicyError,
    Statement,
    condition_values,
    load_document,
    statements,
)

Severity = Literal["critical", "warning"]
IAM_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
RHINO = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
IAM_VULNERABLE = "https://github.com/BishopFox/iam-vulnerable"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: Severity
    title: str
    source: str


@dataclass(frozen=True, slots=True)
class Escalation:
    """A privilege-escalation method: every group of `needs` granted (any action of a group),
    on a resource that is not one fixed ARN. `passed_to` is the service PassRole must reach."""

    rule: Rule
    needs: tuple[tuple[str, ...], ...]
    passed_to: tuple[str, ...] = ()


def _rule(id_: str, severity: Severity, title: str, source: str) -> Rule:
    return Rule(id_, severity, title, source)


FULL_ADMIN = _rule("full-admin", "critical", "allows every action on every resource (* on *)",
                   IAM_GUIDE + "reference_policies_elements_action.html")
NOT_ACTION = _rule("allow-not-action", "critical",
                   "allows every action but a few (Allow with NotAction on *)",
                   IAM_GUIDE + "reference_policies_elements_notaction.html")
SERVICE_WILDCARD = _rule("sensitive-service-wildcard", "critical",
                         "allows every action of a sensitive service",
                         IAM_GUIDE + "best-practices.html#grant-least-privilege")
TRUST_ANYONE = _rule("trust-anyone", "critical",
                     "lets anyone assume the role (Principal * without a narrowing condition)",
                     IAM_GUIDE + "reference_policies_elements_principal.html")
TRUST_EXTERNAL = _rule("trust-external-account", "critical",
                       "lets an account outside the organization assume the role",
                       IAM_GUIDE + "confused-deputy.html")
TRUST_FEDERATED = _rule("trust-federated-unpinned", "critical",
                        "lets any identity of a web identity provider assume the role (OIDC or "
                        "Cognito federation without a condition pinning the token's sub or aud)",
                        IAM_GUIDE + "id_roles_create_for-idp_oidc.html#idp_oidc_Create_GitHub; "
                        "https://docs.github.com/en/actions/security-for-github-actions/"
                        "security-hardening-your-deployments/"
                        "configuring-openid-connect-in-amazon-web-services; "
                        "https://docs.aws.amazon.com/cognito/latest/developerguide/"
                        "role-trust-and-permissions.html")
ADMIN_ON_USER = _rule("aws-admin-on-user", "critical",
                      "AWS managed AdministratorAccess attached to a user or group",
                      "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/"
                      "AdministratorAccess.html")
QUARANTINE_CHANGED = _rule("quarantine-policy-changed", "critical",
                            "the guard's quarantine policy no longer only denies every action "
                            "(attached by a quarantine, it would grant what it allows)",
                            IAM_GUIDE + "reference_policies_evaluation-logic.html")
GUARD_TAG_CHANGED = _rule("guard-tag-changed", "warning",
                          "the guard's exemption or mode tag was written or removed on a "
                          "principal (it decides what the guard does to it)",
                          IAM_GUIDE + "access_iam-tags.html")
ROOT_ACCESS_KEY = _rule("root-access-key", "critical", "an access key was created for root",
                        IAM_GUIDE + "root-user-best-practices.html")

# Services whose every action controls identity, audit or keys (docs/iam_policy_guard.md says
# why each): `svc:*` there is close to admin whatever else the document says.
SENSITIVE_SERVICES = ("iam", "sts", "kms", "organizations", "cloudtrail", "sso",
                      "identitystore", "account")

_PASSROLE = ("iam:PassRole",)
# The calls that lift a permissions boundary (IAM User Guide, access_policies_boundaries.html:
# a delegated administrator must not be allowed them, or the boundary limits nothing).
_BOUNDARY_DELETES = ("iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary")
_BOUNDARY_PUTS = ("iam:PutUserPermissionsBoundary", "iam:PutRolePermissionsBoundary")
_BOUNDARY_CHANGES = _BOUNDARY_DELETES + _BOUNDARY_PUTS
# The tags the guard reads on a principal: whoever may write them switches it off.
PROTECTED_TAGS = ("opskit:exempt", "opskit:iam-guard")
# Writing (or, on a policy, removing) the guard's tags: a policy's tags decide whether a version
# of it is reverted.
TAG_ACTIONS = ("iam:TagUser", "iam:TagRole", "iam:TagPolicy", "iam:UntagPolicy")
AWS_DOCS = "https://docs.aws.amazon.com/"
ESCALATIONS = (
    Escalation(_rule("pe-create-policy-version", "critical",
                     "can rewrite any managed policy (iam:CreatePolicyVersion)", RHINO),
               (("iam:CreatePolicyVersion",),)),
    Escalation(_rule("pe-set-default-policy-version", "critical",
                     "can switch any managed policy to another version "
                     "(iam:SetDefaultPolicyVersion)", RHINO), (("iam:SetDefaultPolicyVersion",),)),
    Escalation(_rule("pe-create-access-key", "critical",
                     "can create access keys for other users (iam:CreateAccessKey)", RHINO),
               (("iam:CreateAccessKey",),)),
    Escalation(_rule("pe-login-profile", "critical",
                     "can set other users' console passwords "
                     "(iam:CreateLoginProfile / iam:UpdateLoginProfile)", RHINO),
               (("iam:CreateLoginProfile", "iam:UpdateLoginProfile"),)),
    Escalation(_rule("pe-attach-policy", "critical",
                     "can attach any managed policy (iam:Attach*Policy)", RHINO),
               (("iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:AttachRolePolicy"),)),
    Escalation(_rule("pe-put-policy", "critical",
                     "can write any inline policy (iam:Put*Policy)", RHINO),
               (("iam:PutUserPolicy", "iam:PutGroupPolicy", "iam:PutRolePolicy"),)),
    Escalation(_rule("pe-add-user-to-group", "critical",
                     "can join any group (iam:AddUserToGroup)", RHINO),
               (("iam:AddUserToGroup",),)),
    Escalation(_rule("pe-update-assume-role-policy", "critical",
                     "can rewrite any role's trust policy (iam:UpdateAssumeRolePolicy)", RHINO),
               (("iam:UpdateAssumeRolePolicy",),)),
    Escalation(_rule("pe-permissions-boundary", "critical",
                     "can remove or replace the permissions boundary of any user or role "
                     "(iam:Delete/Put{User,Role}PermissionsBoundary)",
                     IAM_GUIDE + "access_policies_boundaries.html"), (_BOUNDARY_CHANGES,)),
    Escalation(_rule("pe-tag-principal", "warning",
                     "can write the guard's exemption or mode tag on any user, role or managed "
                     "policy (iam:TagUser / iam:TagRole / iam:TagPolicy / iam:UntagPolicy "
                     "without an aws:TagKeys condition excluding them)",
                     IAM_GUIDE + "access_iam-tags.html"), (TAG_ACTIONS,)),
    Escalation(_rule("pe-update-function-code", "warning",
                     "can replace the code of any Lambda function and run as its role "
                     "(lambda:UpdateFunctionCode)", RHINO), (("lambda:UpdateFunctionCode",),)),
    Escalation(_rule("pe-glue-update-dev-endpoint", "warning",
                     "can take over any Glue dev endpoint and its role "
                     "(glue:UpdateDevEndpoint)", RHINO), (("glue:UpdateDevEndpoint",),)),
    Escalation(_rule("pe-ssm-send-command", "warning",
                     "can run commands on any managed instance, as its instance profile role "
                     "(ssm:SendCommand)", IAM_VULNERABLE), (("ssm:SendCommand",),)),
    Escalation(_rule("pe-ssm-start-session", "warning",
                     "can open a shell on any managed instance, with its instance profile role "
                     "(ssm:StartSession)", IAM_VULNERABLE), (("ssm:StartSession",),)),
    Escalation(_rule("pe-ec2-instance-connect", "warning",
                     "can log in to any instance over SSH, with its instance profile role "
                     "(ec2-instance-connect:SendSSHPublicKey)", IAM_VULNERABLE),
               (("ec2-instance-connect:SendSSHPublicKey",),)),
    Escalation(_rule("pe-codebuild-start-build", "warning",
                     "can run any commands in any CodeBuild project, as its service role "
                     "(codebuild:StartBuild with a buildspec override)",
                     AWS_DOCS + "codebuild/latest/APIReference/API_StartBuild.html"),
               (("codebuild:StartBuild", "codebuild:StartBuildBatch"),)),
    Escalation(_rule("pe-passrole-ec2-instance-profile", "critical",
                     "can put any role on a running EC2 instance (iam:PassRole + "
                     "ec2:AssociateIamInstanceProfile or ec2:ReplaceIamInstanceProfileAssociation)",
                     IAM_GUIDE + "id_roles_use_switch-role-ec2.html"),
               (_PASSROLE, ("ec2:AssociateIamInstanceProfile",
                            "ec2:ReplaceIamInstanceProfileAssociation")), ("ec2.amazonaws.com",)),
    Escalation(_rule("pe-passrole-cloudformation-update", "critical",
                     "can pass any role to an existing CloudFormation stack (iam:PassRole + "
                     "cloudformation:UpdateStack)", IAM_VULNERABLE),
               (_PASSROLE, ("cloudformation:UpdateStack",)), ("cloudformation.amazonaws.com",)),
    Escalation(_rule("pe-passrole-cloudformation-change-set", "critical",
                     "can pass any role to a CloudFormation change set it runs (iam:PassRole + "
                     "cloudformation:CreateChangeSet + cloudformation:ExecuteChangeSet)",
                     AWS_DOCS + "AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html"),
               (_PASSROLE, ("cloudformation:CreateChangeSet",),
                ("cloudformation:ExecuteChangeSet",)), ("cloudformation.amazonaws.com",)),
    Escalation(_rule("pe-passrole-sagemaker-job", "critical",
                     "can pass any role to a SageMaker training or processing job running its "
                     "own container (iam:PassRole + sagemaker:CreateTrainingJob or "
                     "sagemaker:CreateProcessingJob)", IAM_VULNERABLE),
               (_PASSROLE, ("sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob")),
               ("sagemaker.amazonaws.com",)),
    Escalation(_rule("pe-passrole-lambda-update", "critical",
                     "can give an existing Lambda function any role and run it (iam:PassRole + "
                     "lambda:UpdateFunctionConfiguration + lambda:InvokeFunction)",
                     AWS_DOCS + "lambda/latest/dg/lambda-intro-execution-role.html"),
               (_PASSROLE, ("lambda:UpdateFunctionConfiguration",),
                ("lambda:InvokeFunction", "lambda:CreateEventSourceMapping",
                 "lambda:AddPermission")), ("lambda.amazonaws.com",)),
    Escalation(_rule("pe-passrole-glue-update", "critical",
                     "can give an existing Glue job any role and run it (iam:PassRole + "
                     "glue:UpdateJob + glue:StartJobRun)",
                     AWS_DOCS + "glue/latest/dg/create-an-iam-role.html"),
               (_PASSROLE, ("glue:UpdateJob",), ("glue:StartJobRun",)), ("glue.amazonaws.com",)),
    Escalation(_rule("pe-passrole-ec2", "critical",
                     "can pass any role to an EC2 instance it starts "
                     "(iam:PassRole + ec2:RunInstances)", RHINO),
               (_PASSROLE, ("ec2:RunInstances",)), ("ec2.amazonaws.com",)),
    Escalation(_rule("pe-passrole-lambda", "critical",
                     "can pass any role to a Lambda function it creates and runs "
                     "(iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction, "
                     "CreateEventSourceMapping or AddPermission)", RHINO),
               (_PASSROLE, ("lambda:CreateFunction",),
                ("lambda:InvokeFunction", "lambda:CreateEventSourceMapping",
                 "lambda:AddPermission")), ("lambda.amazonaws.com",)),
    Escalation(_rule("pe-passrole-glue", "critical",
                     "can pass any role to a Glue dev endpoint or job "
                     "(iam:PassRole + glue:CreateDevEndpoint or glue:CreateJob)", RHINO),
               (_PASSROLE, ("glue:CreateDevEndpoint", "glue:CreateJob")),
               ("glue.amazonaws.com",)),
    Escalation(_rule("pe-passrole-cloudformation", "critical",
                     "can pass any role to a CloudFormation stack "
                     "(iam:PassRole + cloudformation:CreateStack)", RHINO),
               (_PASSROLE, ("cloudformation:CreateStack", "cloudformation:CreateStackSet")),
               ("cloudformation.amazonaws.com",)),
    Escalation(_rule("pe-passrole-datapipeline", "critical",
                     "can pass any role to a Data Pipeline (iam:PassRole + "
                     "datapipeline:CreatePipeline + datapipeline:PutPipelineDefinition)", RHINO),
               (_PASSROLE, ("datapipeline:CreatePipeline",),
                ("datapipeline:PutPipelineDefinition",)),
               ("datapipeline.amazonaws.com", "elasticmapreduce.amazonaws.com")),
    Escalation(_rule("pe-passrole-ecs", "critical",
                     "can pass any role to an ECS task it runs (iam:PassRole + "
                     "ecs:RegisterTaskDefinition + ecs:RunTask)", IAM_VULNERABLE),
               (_PASSROLE, ("ecs:RegisterTaskDefinition",), ("ecs:RunTask", "ecs:StartTask")),
               ("ecs-tasks.amazonaws.com",)),
    Escalation(_rule("pe-passrole-codebuild", "critical",
                     "can pass any role to a CodeBuild project it runs (iam:PassRole + "
                     "codebuild:CreateProject + codebuild:StartBuild)", IAM_VULNERABLE),
               (_PASSROLE, ("codebuild:CreateProject",), ("codebuild:StartBuild",)),
               ("codebuild.amazonaws.com",)),
    Escalation(_rule("pe-passrole-sagemaker", "critical",
                     "can pass any role to a SageMaker notebook it opens (iam:PassRole + "
                     "sagemaker:CreateNotebookInstance + "
                     "sagemaker:CreatePresignedNotebookInstanceUrl)", IAM_VULNERABLE),
               (_PASSROLE, ("sagemaker:CreateNotebookInstance",),
                ("sagemaker:CreatePresignedNotebookInstanceUrl",)),
               ("sagemaker.amazonaws.com",)),
)
NAMED_PRINCIPAL_RULE = _rule("pe-named-principal", "warning",
                             "escalation to a named principal: can act as (or rewrite the "
                             "permissions of) one named user, group or role whose permissions "
                             "were not read", RHINO)
NAMED_ADMIN_RULE = _rule("pe-named-admin", "critical",
                         "can act as one named user, group or role that holds admin-level "
                         "permissions (its credentials, its group, its trust policy, or "
                         "passing it to a service)", RHINO)
RULES: Mapping[str, Rule] = {rule.id: rule for rule in (
    NAMED_PRINCIPAL_RULE, NAMED_ADMIN_RULE, FULL_ADMIN, NOT_ACTION, SERVICE_WILDCARD,
    TRUST_ANYONE, TRUST_EXTERNAL, TRUST_FEDERATED, ADMIN_ON_USER, QUARANTINE_CHANGED,
    GUARD_TAG_CHANGED, ROOT_ACCESS_KEY, *(escalation.rule for escalation in ESCALATIONS))}


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule matched, and the statements that cause it."""

    rule: Rule
    statements: tuple[Statement, ...] = ()
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"rule": self.rule.id, "severity": self.rule.severity,
                                 "title": self.rule.title, "source": self.rule.source}
        if self.statements:
            found["statements"] = [s.label for s in self.statements]
            found["statement"] = [dict(s.raw) for s in self.statements]
        if self.detail:
            found["detail"] = self.detail
        return found


# ---- the policy language ---------------------------------------------------------------

# An action no service has: a pattern that matches it matches every action of its service.
_PROBE = "opskitprobe0"


def _matches(action: str, patterns: Sequence[str]) -> bool:
    """IAM action matching: case-insensitive, `*` and `?` wildcards."""
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def grants_action(statement: Statement, action: str) -> bool:
    if not statement.allows:
        return False
    if statement.not_actions:
        return not _matches(action, statement.not_actions)
    return _matches(action, statement.actions)


def on_any_resource(statement: Statement) -> bool:
    """`Resource: "*"` (or NotResource, which allows all but some)."""
    return bool(statement.not_resources) or "*" in statement.resources


# A resource the caller is the only one to match: IAM's documented self-service pattern
# (reference_policies_examples_iam_credentials_console.html). It excludes only the actions that
# manage one's own credentials: writing or attaching a policy to oneself is Rhino's
# PutUserPolicy / AttachUserPolicy escalation, whatever the resource (account spelled out or not).
_SELF = re.compile(r"^arn:aws[\w-]*:iam::[^:]*:user/(?:[^*?$]*/)?\$\{aws:username\}$",
                   re.IGNORECASE)
SELF_SERVICE_ACTIONS = frozenset({"iam:createaccesskey", "iam:createloginprofile",
                                  "iam:updateloginprofile"})


def _of_service(resource: str, service: str) -> bool:
    """Whether the ARN pattern can name a resource of `service` (`*` names them all)."""
    parts = resource.split(":")
    return resource == "*" or resource.startswith("${") or (
        len(parts) >= 3 and fnmatch.fnmatchcase(service, parts[2].lower()))


def _many(resource: str) -> bool:
    """A wildcard, or a policy variable (reference_policies_variables.html): `${aws:username}`,
    `${aws:PrincipalTag/x}`... take the value of the request, which the caller (or whoever tags
    it) chooses: the ARN is not one fixed resource."""
    return "*" in resource or "?" in resource or "${" in resource


def on_many_resources(statement: Statement, service: str, *, self_service: bool = False) -> bool:
    """A wildcard or a policy variable in some Resource of `service` (any ARN pattern),
    NotResource; an ARN without either, or another service's, is not. With `self_service`, the
    caller's own user (`user/${aws:username}`) is not many either."""
    if statement.not_resources:
        return True
    return any(_many(r) and _of_service(r, service.lower())
               for r in statement.resources if not (self_service and _SELF.match(r)))


# Operators that fix a key to their values. `...IfExists` is true when the key is absent and
# `ForAllValues:` is true for an absent (empty) key: neither narrows (IAM User Guide,
# reference_policies_elements_condition_operators.html and _condition-single-vs-multi-valued).
# ArnEquals, ArnLike and StringLike take `*` and `?`: a value holding one does not fix the key.
_EQUALS_OPERATORS = ("stringequals", "stringequalsignorecase")
_LIKE_OPERATORS = ("stringlike", "arnequals", "arnlike")


def _wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def condition_sets(statement: Statement, key: str) -> list[tuple[bool, tuple[str, ...]]]:
    """(operator takes wildcards, values) for each operator that can narrow `key`; all of them
    must hold (the operators of a Condition are ANDed)."""
    found = []
    for operator, values in condition_values(statement, key).items():
        op = operator.lower()
        if op.endswith("ifexists") or op.startswith("forallvalues:") or not values:
            continue
        op = op.removeprefix("foranyvalue:")
        if op in _EQUALS_OPERATORS or op in _LIKE_OPERATORS:
            found.append((op in _LIKE_OPERATORS, values))
    return found


def narrowed_by(statement: Statement, key: str) -> tuple[str, ...] | None:
    """The fixed values `key` is compared with (no wildcard under a *Like operator, no blank,
    no negated or IfExists operator, no ForAllValues), else None."""
    for like, values in condition_sets(statement, key):
        if all(v.strip() not in ("*", "") and not (like and _wildcard(v)) for v in values):
            return values
    return None


# Condition keys the IAM User Guide documents as limiting these actions: a boundary that must be
# attached (access_policies_boundaries.html, delegating), the policies that may be attached
# (iam:PolicyARN), the service a role may be passed to (iam:PassedToService).
_BOUNDARY = "iam:PermissionsBoundary"
_NARROWING: Mapping[str, tuple[str, ...]] = {
    **{f"iam:Attach{kind}Policy": ("iam:PolicyARN", _BOUNDARY)
       for kind in ("User", "Group", "Role")},
    **{f"iam:Put{kind}Policy": (_BOUNDARY,) for kind in ("User", "Role")},
    **{f"iam:Put{kind}PermissionsBoundary": (_BOUNDARY,) for kind in ("User", "Role")},
}

# A policy ARN -> its default document (None: not known, not readable); the guard reads it in
# IAM, the pure analysis has none (then iam:PolicyARN narrows nothing: the policy it names is
# not known to be harmless).
PolicyResolver = Callable[[str], object | None]


# A named principal (kind, name) -> whether what it holds is admin-level (a critical finding);
# None: not known (not readable). The guard reads it in IAM; the pure analysis has none.
PrincipalResolver = Callable[[str, str], bool | None]


@dataclass(frozen=True, slots=True)
class Scope:
    """What the analysis of a document may consult: the policies iam:PolicyARN names, the tag
    keys that must not be writable (the guard's exemption and mode tags), the principal holding
    the document (`holder`, its ARN; None: not known) and what a named principal holds
    (`principal_admin`)."""

    resolve: PolicyResolver | None = None
    protected_tags: tuple[str, ...] = PROTECTED_TAGS
    holder: str | None = None
    principal_admin: PrincipalResolver | None = None


PURE = Scope()


# Policies that limit nothing when they are the ones that may be attached or the boundary: a
# wildcard over AWS managed policies (handled as a wildcard value) or an AWS managed policy that
# gives administrator or IAM write access (aws-managed-policy reference).
_ADMIN_MANAGED = re.compile(
    r"^arn:aws[\w-]*:iam::aws:policy/(?:.*/)?(?:AdministratorAccess[\w-]*|IAMFullAccess|"
    r"PowerUserAccess|AWSOrganizationsFullAccess)$", re.IGNORECASE)


def _harmless_policies(values: Sequence[str], scope: Scope) -> bool:
    """Every policy iam:PolicyARN names is read and grants nothing dangerous (judged without a
    resolver: a policy that itself names policies is not harmless)."""
    if scope.resolve is None:
        return False
    for value in values:
        arn = value.strip()
        if _wildcard(arn) or "${" in arn or _ADMIN_MANAGED.match(arn):
            return False
        document = scope.resolve(arn)
        if document is None:
            return False
        try:
            found = _permission_findings(statements(load_document(document)),
                                         Scope(None, scope.protected_tags, scope.holder))
        except PolicyError:
            return False
        if found:
            return False
    return True


def _limits(key: str, values: Sequence[str], scope: Scope, boundary_removable: bool) -> bool:
    if key.lower() == "iam:policyarn":
        return _harmless_policies(values, scope)
    if key.lower() == _BOUNDARY.lower():
        # A boundary the holder may also delete or replace limits nothing.
        return not boundary_removable and not any(_ADMIN_MANAGED.match(v.strip())
                                                  for v in values)
    return True


_TAG_KEY_OPERATORS = ("forallvalues:stringequals", "forallvalues:stringequalsignorecase",
                      "forallvalues:stringlike")


def _protected_tags_excluded(statement: Statement, protected: Sequence[str]) -> bool:
    """An aws:TagKeys condition lets the request write only keys none of which is protected
    (ForAllValues: every key of the request in the list; the IAM User Guide, access_iam-tags.html
    and reference_policies_condition-single-vs-multi-valued-context-keys.html)."""
    for operator, values in condition_values(statement, "aws:TagKeys").items():
        op = operator.lower()
        if op not in _TAG_KEY_OPERATORS or not values:
            continue
        like = op.endswith("like")
        if not any(fnmatch.fnmatchcase(key.lower(), value.lower()) if like
                   else key.lower() == value.lower() for value in values for key in protected):
            return True
    return False


def _grants_escalating(statement: Statement, action: str, passed_to: Sequence[str],
                       *, any_resource: bool = True, scope: Scope = PURE,
                       boundary_removable: bool = False) -> bool:
    """Whether the statement grants `action` as the escalation needs it: on many resources
    (`any_resource`; the second half of a PassRole combination may name its resource), not
    limited by a condition key that bounds it."""
    service = action.split(":", maxsplit=1)[0]
    if not grants_action(statement, action):
        return False
    if any_resource and not on_many_resources(
            statement, service, self_service=action.lower() in SELF_SERVICE_ACTIONS):
        return False
    for key in _NARROWING.get(action, ()):
        values = narrowed_by(statement, key)
        if values is not None and _limits(key, values, scope, boundary_removable):
            return False
    if action in TAG_ACTIONS and _protected_tags_excluded(
            statement, scope.protected_tags):
        return False
    if action == "iam:PassRole" and passed_to:
        services = narrowed_by(statement, "iam:PassedToService")
        if services is not None and not any(_matches(s, [p]) for p in services
                                            for s in passed_to):
            return False
    return True


# ---- permission policies ------------------------------------------------------------------

def _permission_findings(items: Sequence[Statement], scope: Scope = PURE) -> list[Finding]:
    allows = [s for s in items if s.allows]
    removable = any(_grants_escalating(s, action, (), scope=scope)
                    for action in _BOUNDARY_CHANGES for s in allows)
    admin = [s for s in allows if grants_action(s, "opskitprobe:" + _PROBE)
             and not s.not_actions and "*" in s.resources]
    if admin:
        return [Finding(FULL_ADMIN, tuple(admin))]
    not_action = [s for s in allows if s.not_actions and on_any_resource(s)]
    if not_action:
        return [Finding(NOT_ACTION, tuple(not_action),
                        "allowed except " + ", ".join(a for s in not_action
                                                      for a in s.not_actions))]
    found: list[Finding] = []
    wildcard_services: set[str] = set()
    for service in SENSITIVE_SERVICES:
        whole = tuple(s for s in allows if grants_action(s, f"{service}:{_PROBE}")
                      and on_many_resources(s, service))
        if whole:
            wildcard_services.add(service)
            found.append(Finding(SERVICE_WILDCARD, whole, f"{service}:*"))
    for escalation in ESCALATIONS:
        services = {action.split(":")[0] for group in escalation.needs for action in group}
        if services <= wildcard_services:
            continue  # already reported as the whole service
        causes: list[Statement] = []
        for group in escalation.needs:
            granting = [s for action in group for s in allows
                        if _grants_escalating(s, action, escalation.passed_to, any_resource=(
                            not escalation.passed_to or action == "iam:PassRole"), scope=scope,
                            boundary_removable=removable)]
            if not granting:
                break
            causes.extend(s for s in granting if s not in causes)
        else:
            found.append(Finding(escalation.rule, tuple(sorted(causes, key=lambda s: s.index))))
    return _merge(found, _named_findings(allows, scope, removable))


def _merge(found: list[Finding], named: Sequence[Finding]) -> list[Finding]:
    """The named-principal findings whose rule is not already found on many resources."""
    ids = {finding.rule.id for finding in found}
    return found + [finding for finding in named if finding.rule.id not in ids]


# ---- escalations aimed at one named principal ----------------------------------------------

NAMED_PRINCIPAL = NAMED_PRINCIPAL_RULE
NAMED_ADMIN = NAMED_ADMIN_RULE
_PRINCIPAL_ARN = re.compile(
    r"^arn:aws[\w-]*:iam::(\d{12})?:(user|group|role)/(?:[^*?$]*/)?([^/*?$]+)$", re.IGNORECASE)
# Acting as the named principal: its credentials, its group, its trust policy (then assuming
# it), passing it to a service one runs code in.
_ACT_AS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("user", ("iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile")),
    ("group", ("iam:AddUserToGroup",)),
    ("role", ("iam:UpdateAssumeRolePolicy",)),
    ("role", ("iam:PassRole",)),
)
# Writing a policy on the named principal: an escalation when it is the holder itself.
_POLICY_WRITES: Mapping[str, tuple[str, Rule]] = {
    **{f"iam:Attach{k}Policy": (k.lower(), RULES["pe-attach-policy"])
       for k in ("User", "Group", "Role")},
    **{f"iam:Put{k}Policy": (k.lower(), RULES["pe-put-policy"])
       for k in ("User", "Group", "Role")},
}


def _named(statement: Statement, kind: str) -> list[tuple[str, str]]:
    """The (kind, name) of the principals of `kind` the statement names by one fixed ARN."""
    named = []
    for resource in statement.resources:
        match = _PRINCIPAL_ARN.match(resource.strip())
        if match and match.group(2).lower() == kind:
            named.append((kind, match.group(3)))
    return named


def _unique(items: Sequence[Statement]) -> tuple[Statement, ...]:
    kept: list[Statement] = []
    for item in items:
        if all(item is not other for other in kept):
            kept.append(item)
    return tuple(sorted(kept, key=lambda s: s.index))


def _holder(scope: Scope) -> tuple[str, str] | None:
    match = _PRINCIPAL_ARN.match(scope.holder or "")
    return (match.group(2).lower(), match.group(3)) if match else None


def _passes_to_compute(allows: Sequence[Statement], statement: Statement) -> bool:
    """PassRole in `statement` reaches a service one of whose PassRole escalations the other
    actions complete."""
    for escalation in ESCALATIONS:
        if not escalation.passed_to or not _grants_escalating(
                statement, "iam:PassRole", escalation.passed_to, any_resource=False):
            continue
        if all(any(grants_action(s, action) for action in group for s in allows)
               for group in escalation.needs if group != _PASSROLE):
            return True
    return False


def _named_findings(allows: Sequence[Statement], scope: Scope,
                    removable: bool) -> list[Finding]:
    """Escalations aimed at one named principal: a policy written on the holder's own ARN is
    the escalation itself (critical); acting as another named principal is critical when it
    holds admin-level permissions, nothing when it holds nothing dangerous, and a warning when
    what it holds is not known (the pure analysis)."""
    holder = _holder(scope)
    own: dict[Rule, list[Statement]] = {}
    admin: list[Statement] = []
    unknown: list[Statement] = []
    targets: list[str] = []
    for statement in allows:
        for action, (kind, rule) in _POLICY_WRITES.items():
            if not _grants_escalating(statement, action, (), any_resource=False, scope=scope,
                                      boundary_removable=removable):
                continue
            for target in _named(statement, kind):
                if holder is not None and target[0] == holder[0] and (
                        target[1].lower() == holder[1].lower()):
                    own.setdefault(rule, []).append(statement)
                elif holder is None:
                    unknown.append(statement)
                    targets.append(f"{action} on {target[0]}/{target[1]}")
        for kind, actions in _ACT_AS:
            granted = [a for a in actions if grants_action(statement, a)]
            if not granted:
                continue
            if "iam:UpdateAssumeRolePolicy" in granted and not any(
                    grants_action(s, "sts:AssumeRole") for s in allows):
                continue
            if "iam:PassRole" in granted and not _passes_to_compute(allows, statement):
                continue
            for target in _named(statement, kind):
                held = (scope.principal_admin(*target) if scope.principal_admin is not None
                        else None)
                if held is False:
                    continue
                (admin if held else unknown).append(statement)
                targets.append(f"{granted[0]} on {target[0]}/{target[1]}")
    found = [Finding(rule, _unique(items), "on the holder's own ARN")
             for rule, items in own.items()]
    if admin:
        found.append(Finding(NAMED_ADMIN, _unique(admin),
                             ", ".join(dict.fromkeys(targets))))
    elif unknown:
        found.append(Finding(NAMED_PRINCIPAL, _unique(unknown),
                             ", ".join(dict.fromkeys(targets))))
    return found


def permission_findings(document: object, scope: Scope = PURE) -> list[Finding]:
    """What an identity policy (managed or inline) lets its holder do that hands over the
    account. Raises PolicyError for a document that is not a policy."""
    return _permission_findings(statements(load_document(document)), scope)


def combined_findings(documents: Sequence[tuple[str, object]],
                      scope: Scope = PURE) -> list[Finding]:
    """What the policies of one principal (`(name, document)` each: its inline and attached
    policies, and a user's groups') grant together that none of them grants alone: an
    escalation split over several policies. Each statement is named with its policy."""
    union: list[Statement] = []
    alone: set[str] = set()
    for name, document in documents:
        items = statements(load_document(document))
        alone |= {finding.rule.id for finding in _permission_findings(items, scope)}
        union.extend(replace(item, source=name) for item in items)
    return [finding for finding in _permission_findings(union, scope)
            if finding.rule.id not in alone]


def deny_only(document: object) -> bool:
    """Whether a policy only denies (a quarantine policy must grant nothing)."""
    try:
        return all(not item.allows for item in statements(load_document(document)))
    except PolicyError:
        return False


def denies_everything(document: object) -> bool:
    """Deny-only, with an unconditional Deny of every action on every resource."""
    try:
        items = statements(load_document(document))
    except PolicyError:
        return False
    return deny_only(document) and any(
        "*" in item.actions and "*" in item.resources and not item.condition
        and not item.not_actions and not item.not_resources for item in items)


# ---- trust policies -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TrustContext:
    """Who may assume roles: this account, the allowed accounts, the organization."""

    home_account: str
    allowed_accounts: frozenset[str] = frozenset()
    organization_id: str | None = None


# Condition keys that fix who can assume a role opened to "*" (the Principal element page and
# the confused-deputy page): the caller's organization, account or ARN, the calling service's
# source. Each is compared with the context: a role narrowed to a stranger account or another
# organization is trusted outside. sts:ExternalId is not among them: the IAM User Guide
# (id_roles_common-scenarios_third-party.html) says the external ID is not a secret, so with
# Principal "*" anyone who learns it can assume the role.
TRUST_NARROWING_KEYS = ("aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount",
                        "aws:PrincipalArn", "aws:SourceAccount", "aws:SourceArn",
                        "aws:SourceOrgID")
_ORG_KEYS = ("aws:principalorgid", "aws:sourceorgid")
_ACCOUNT_KEYS = ("aws:principalaccount", "aws:sourceaccount")
_ARN_KEYS = ("aws:principalarn", "aws:sourcearn")
_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):")


def _aws_principals(principal: object) -> tuple[str, ...]:
    return _principals(principal, "AWS")


def _principals(principal: object, kind: str) -> tuple[str, ...]:
    if principal == "*":
        return ("*",) if kind == "AWS" else ()
    if isinstance(principal, Mapping):
        value = principal.get(kind)
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list):
            return tuple(str(v) for v in value)
    return ()


def _assumes(statement: Statement) -> bool:
    return any(grants_action(statement, f"sts:{action}") for action in
               ("AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"))


def _account_of(principal: str) -> str | None:
    if re.fullmatch(r"\d{12}", principal):
        return principal
    match = _ACCOUNT_IN_ARN.match(principal)
    return match.group(1) if match else None


def _who(key: str, value: str) -> str | None:
    """The party a condition value fixes, `account:ID` or `org:ID`; "" for an ARN that names no
    account (an S3 bucket's: it fixes the resource, not an account); None when the value fixes
    nobody (a wildcard where the account or organization goes)."""
    key = key.lower()
    value = value.strip()
    if key in _ORG_KEYS:
        return None if _wildcard(value) or not value else f"org:{value}"
    if key == "aws:principalorgpaths":
        org = value.split("/", 1)[0]
        return None if _wildcard(org) or not org else f"org:{org}"
    if key in _ACCOUNT_KEYS:
        return f"account:{value}" if re.fullmatch(r"\d{12}", value) else None
    parts = value.split(":")
    if len(parts) < 6 or _wildcard(":".join(parts[:3])):
        return None
    if parts[4] == "":
        return None if _wildcard(value) else ""
    return f"account:{parts[4]}" if re.fullmatch(r"\d{12}", parts[4]) else None


def _narrowing(statement: Statement, trusted: frozenset[str]) -> tuple[bool, bool, list[str]]:
    """(narrowed, kept_inside, outsiders): whether a condition fixes who may assume, whether one
    of them keeps every value to a trusted account or organization (conditions are ANDed, one
    is enough), and the parties outside the context the others let in."""
    narrowed = False
    outsiders: list[str] = []
    for key in TRUST_NARROWING_KEYS:
        for _like, values in condition_sets(statement, key):
            parties = [_who(key, v) for v in values]
            if any(p is None for p in parties):
                continue
            narrowed = True
            named = [p for p in parties if p]
            strangers = [p for p in named if p not in trusted]
            if named and not strangers:
                return True, True, []
            outsiders.extend(p.split(":", 1)[1] for p in strangers)
    return narrowed, False, outsiders

# Web identity providers and the claim that pins who gets a token: GitHub's token carries any
# repository's identity unless `sub` names the owner (GitHub, "Configuring OpenID Connect in
# Amazon Web Services"); a Cognito identity pool token any pool's unless `aud` names the pool
# (Cognito developer guide, role trust); public providers' unless the app is named; another
# OIDC provider's unless `aud` or `sub` is fixed (IAM User Guide, OIDC federation).
_GITHUB = "token.actions.githubusercontent.com"
_PUBLIC_PROVIDERS: Mapping[str, tuple[str, ...]] = {
    "cognito-identity.amazonaws.com": ("aud",),
    "accounts.google.com": ("aud", "oaud"),
    "graph.facebook.com": ("app_id",),
    "www.amazon.com": ("app_id",),
}
# A fixed claim type then a fixed owner: `repo:octo-org/...`, not `repo:*` or `*`.
_PINNED_SUB = re.compile(r"^[^:*?]+:[^*?/:]+[/:]")


def _provider(federated: str) -> str | None:
    """The provider a Federated principal names as its condition keys spell it, or None for a
    SAML provider (pinned by its own metadata, not by a token claim)."""
    if ":saml-provider/" in federated:
        return None
    if ":oidc-provider/" in federated:
        return federated.split(":oidc-provider/", 1)[1]
    return federated


def _pinned(statement: Statement, provider: str) -> bool:
    if provider.lower().startswith(_GITHUB):
        return any(all(_PINNED_SUB.match(v.strip()) for v in values)
                   for _like, values in condition_sets(statement, f"{provider}:sub"))
    claims = _PUBLIC_PROVIDERS.get(provider.lower(), ("aud", "sub"))
    return any(narrowed_by(statement, f"{provider}:{claim}") is not None for claim in claims)


def _unpinned_providers(statement: Statement) -> list[str]:
    if not grants_action(statement, "sts:AssumeRoleWithWebIdentity"):
        return []
    found = []
    for federated in _principals(statement.principal, "Federated"):
        provider = _provider(federated)
        if provider is not None and not _pinned(statement, provider):
            found.append(federated)
    return found


def trust_findings(document: object, context: TrustContext) -> list[Finding]:
    """Who outside the organization (or anyone) can assume a role with this trust policy."""
    anyone: list[Statement] = []
    external: list[Statement] = []
    federated: list[Statement] = []
    outsiders: list[str] = []
    providers: list[str] = []
    trusted = frozenset({f"account:{context.home_account}",
                         *(f"account:{a}" for a in context.allowed_accounts),
                         *((f"org:{context.organization_id}",) if context.organization_id
                           else ())})
    for statement in statements(load_document(document)):
        if not statement.allows or not _assumes(statement):
            continue
        narrowed, inside, beyond = _narrowing(statement, trusted)
        principals = _aws_principals(statement.principal)
        if statement.not_principal is not None or "*" in principals:
            if not narrowed:
                anyone.append(statement)
            elif beyond and not inside:
                external.append(statement)
                outsiders.extend(beyond)
            continue
        if inside:
            continue  # a condition keeps every principal to this account or organization
        strangers = [p for p in principals if (account := _account_of(p)) is not None
                     and f"account:{account}" not in trusted]
        if strangers:
            external.append(statement)
            outsiders.extend(strangers)
        unpinned = _unpinned_providers(statement)
        if unpinned:
            federated.append(statement)
            providers.extend(unpinned)
    found = []
    if anyone:
        found.append(Finding(TRUST_ANYONE, tuple(anyone)))
    if external:
        found.append(Finding(TRUST_EXTERNAL, tuple(external),
                             "trusted outside the organization: "
                             + ", ".join(dict.fromkeys(outsiders))))
    if federated:
        found.append(Finding(TRUST_FEDERATED, tuple(federated),
                             "no condition pins the token of " + ", ".join(providers)))
    return found


def offending(findings: Sequence[Finding]) -> frozenset[int]:
    """The indexes of the statements the findings name."""
    return frozenset(s.index for finding in findings for s in finding.statements)


# ---- attachments ----------------------------------------------------------------------------

_ADMINISTRATOR_ACCESS = re.compile(r"^arn:aws[\w-]*:iam::aws:policy/AdministratorAccess$")


def is_administrator_access(policy_arn: str) -> bool:
    return _ADMINISTRATOR_ACCESS.fullmatch(policy_arn) is not None


def is_aws_managed(policy_arn: str) -> bool:
    return re.match(r"^arn:aws[\w-]*:iam::aws:policy/", policy_arn) is not None


def attachment_findings(principal_type: str, policy_arn: str) -> list[Finding]:
    """AdministratorAccess given to people: a user directly, or every member of a group."""
    if principal_type in ("user", "group") and is_administrator_access(policy_arn):
        return [Finding(ADMIN_ON_USER, detail=f"{policy_arn} attached to a {principal_type}")]
    return []
