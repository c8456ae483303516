"""Writes member-role.yaml: per automation, exactly the statements its function needs in a member
account, that is the function's own statements in template.yaml minus those about this stack
(alert topic, export role and key, queues, assuming roles).

Run it after any change of the template's policies: `make member-role` (or
`python -m tools.member_role`); `tests/test_member_role.py` fails while the file is not current.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tools.catalog import catalog, load_template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
MEMBER = ROOT / "member-role.yaml"
# Automations that act in member accounts (the Slack notifier and the key rotation stay home).
MEMBER_AUTOMATIONS = ("InstanceScheduler", "AutoTagger", "S3PublicRemediation",
                      "SgOpenPortRemediation", "RdsBackup", "AccessKeyAuditor",
                      "ResourceCleanup", "SelfHealing", "IamPolicyGuard")
HOME_ONLY = {"Report", "ReportEncryption", "TargetAccounts", "DispatchQueue", "DiscoverTargets",
             "Export"}  # exports run in the stack's account only, with its bucket, role and key
# The template's optional statements that members need too, each behind a member parameter.
OPTIONAL = {"HasReplacementCidrs": ("AllowSgReplacement", "the open-port remediation's "
                                    "ReplacementCidrs is set"),
            "TurnsOnKmsRotation": ("AllowKmsRotation", "the stack's EnableKmsRotation is true")}
SHARED_PARAMETERS = {"TagPrefix"}
# The template's optional statements about this stack that members need in their own form:
# RotateSecret in a member account invokes the stack's rotation function as the caller. The
# function's name is generated from its nested stack's (and cut to 64 characters), so the
# member role names it by the ARN the stack outputs, not by a pattern.
TRANSLATED = {"AccessKeyRotationEnabled": ("RotationFunctionArn", "the stack's output "
                                           "AccessKeyRotationFunctionArn", {
    "Sid": "InvokeRotation", "Effect": "Allow", "Action": "lambda:InvokeFunction",
    "Resource": {"Ref": "RotationFunctionArn"}})}
# Statements about this stack's resources whose member-account form names the member's own:
# the guard's quarantine attaches the member role's deny-all policy (same name as the stack's),
# and no other.
QUARANTINE_NAME = "${OpskitStackName}-quarantine"
MEMBER_FORMS: dict[tuple[str, str], dict[str, Any]] = {
    ("IamPolicyGuard", "Quarantine"): {
        "Sid": "Quarantine", "Effect": "Allow",
        "Action": ["iam:AttachUserPolicy", "iam:AttachRolePolicy"],
        "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*"},
                     {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"}],
        "Condition": {"ArnEquals": {"iam:PolicyARN": {"Fn::Sub": (
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/" + QUARANTINE_NAME)}}}},
}


def member_resources(automation: str) -> dict[str, Any]:
    """What an automation needs in the member account besides its statements: the guard's
    deny-all quarantine policy, and the Deny that keeps it from changing the execution role or
    any role named like the catalog's."""
    if automation != "IamPolicyGuard":
        return {}
    condition = f"{automation}Enabled"
    return {
        "IamPolicyGuardQuarantinePolicy": {
            "Type": "AWS::IAM::ManagedPolicy", "Condition": condition,
            "Properties": {
                "ManagedPolicyName": {"Fn::Sub": QUARANTINE_NAME},
                "Description": "opskit iam_policy_guard quarantine - denies every action to the "
                               "principal it is attached to",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "Quarantined", "Effect": "Deny", "Action": "*",
                    "Resource": "*"}]}}},
        "IamPolicyGuardOwnRole": {
            "Type": "AWS::IAM::RolePolicy", "Condition": condition,
            "Properties": {
                "RoleName": {"Ref": "ExecutionRole"},
                "PolicyName": "opskit-IamPolicyGuard-never-change-own-roles",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "NeverChangeCatalogRoles", "Effect": "Deny",
                    "Action": ["iam:DetachRolePolicy", "iam:DeleteRolePolicy",
                               "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy"],
                    "Resource": [{"Fn::GetAtt": ["ExecutionRole", "Arn"]}, {"Fn::Sub": (
                        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
                        "${OpskitStackName}-*")}]}]}}},
    }


# The security scan's findings on a member policy, each with the reason it stands.
SCAN_SKIPS = {
    "SelfHealing": [(
        "CKV_AWS_111",
        "Reboot, stop, start, set-health and update-service act on whichever resource's alarm "
        "fired, found at run time; the exemption Deny (SelfHealingExemption, inline, created "
        "first) refuses every one of them on a resource tagged exempt.")],
}


ROTATION_FUNCTION_ARN = "^$|^arn:aws[\\w-]*:lambda:[a-z0-9-]+:\\d{12}:function:[\\w-]+$"


def load(path: Path) -> dict[str, Any]:
    return load_template(path)


def _names(value: Any) -> set[str]:
    """Every resource or parameter a statement refers to."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str) and not item.startswith("AWS::"):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(str(item[0] if isinstance(item, list) else item).split(".")[0])
            elif key == "Fn::Sub" and isinstance(item, str):
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", item)
                          if not m.startswith("AWS::")}
            found |= _names(item)
    elif isinstance(value, list):
        for item in value:
            found |= _names(item)
    return found


def member_statements(template: dict[str, Any], automation: str) -> list[dict[str, Any]]:
    function = template["Resources"][f"{automation}Function"]
    kept = []
    for statement in function["Properties"]["Policies"][0]["Statement"]:
        if "Fn::If" in statement:
            condition, chosen, _ = statement["Fn::If"]
            if condition in OPTIONAL:
                kept.append({"Fn::If": [f"{OPTIONAL[condition][0]}On", chosen,
                                        {"Ref": "AWS::NoValue"}]})
            elif condition in TRANSLATED:
                parameter, _, translated = TRANSLATED[condition]
                kept.append({"Fn::If": [f"{parameter}On", translated, {"Ref": "AWS::NoValue"}]})
            elif not condition.endswith("Dispatch") and condition != "HasDrKmsKey":
                raise ValueError(f"{automation}: an optional statement under {condition} is "
                                 "neither kept, translated nor known to be about this stack")
            continue  # the dispatch queue and the DR key are this stack's own
        if statement.get("Sid") in HOME_ONLY:
            continue  # the stack's own resources
        if (automation, statement.get("Sid")) in MEMBER_FORMS:
            kept.append(MEMBER_FORMS[(automation, statement["Sid"])])
            continue
        if _names(statement) - SHARED_PARAMETERS:
            continue  # about a resource of this stack (the export role and key)
        kept.append(statement)
    return kept


def render(template: dict[str, Any]) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "OpskitAccountId": {"Type": "String", "AllowedPattern": "^\\d{12}$",
                            "Description": "The account where the opskit stack runs."},
        "OpskitStackName": {"Type": "String", "Default": "opskit",
                            "Description": "The opskit stack's name: its function roles start "
                                           "with it."},
        "OrganizationId": {"Type": "String", "AllowedPattern": "^o-[a-z0-9]{10,32}$",
                           "Description": "Only principals of this organization may assume "
                                          "the role."},
        "RoleName": {"Type": "String", "Default": "OpskitExecutionRole",
                     "Description": "The opskit stack's AssumeRoleName."},
        "TagPrefix": {"Type": "String", "Default": "opskit:",
                      "Description": "The opskit stack's TagPrefix (the auto-tagger's keys)."},
        "ExemptionTagKey": {"Type": "String", "Default": "opskit:exempt",
                            "Description": "The opskit stack's ExemptionTagKey: resources with "
                                           "this tag set to true are never acted on."},
    }
    conditions: dict[str, Any] = {}
    for parameter, when in OPTIONAL.values():
        parameters[parameter] = {"Type": "String", "Default": "false",
                                 "AllowedValues": ["true", "false"],
                                 "Description": f"true when {when}."}
        conditions[f"{parameter}On"] = {"Fn::Equals": [{"Ref": parameter}, "true"]}
    for parameter, when, _ in TRANSLATED.values():
        parameters[parameter] = {"Type": "String", "Default": "",
                                 "AllowedPattern": ROTATION_FUNCTION_ARN,
                                 "Description": f"The value of {when}, when the stack has it "
                                                "(empty: no key rotation)."}
        conditions[f"{parameter}On"] = {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, ""]}]}
    resources: dict[str, Any] = {
        "ExecutionRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": {"Ref": "RoleName"},
                "Description": "Assumed by the opskit automations of the opskit account",
                "MaxSessionDuration": 3600,
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": {"Fn::Sub":
                                          "arn:${AWS::Partition}:iam::${OpskitAccountId}:root"}},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}},
                        "ArnLike": {"aws:PrincipalArn": {"Fn::Sub":
                            "arn:${AWS::Partition}:iam::${OpskitAccountId}:role/"
                            "${OpskitStackName}-*"}}}}]}}}}
    for automation in MEMBER_AUTOMATIONS:
        parameters[f"Enable{automation}"] = {"Type": "String", "Default": "true",
                                              "AllowedValues": ["true", "false"]}
        conditions[f"{automation}Enabled"] = {
            "Fn::Equals": [{"Ref": f"Enable{automation}"}, "true"]}
        # What an automation may do is a managed policy (6,144 characters each, 10 attached to
        # a role): one role's inline policies may not exceed 10,240 characters together, which
        # the automations' grants do. Only the exemption Denies stay inline, and each grant
        # waits for its Deny, so the role is never allowed what the Deny forbids.
        exemption = template["Resources"].get(f"{automation}Exemption")
        resources[f"{automation}Policy"] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Condition": f"{automation}Enabled",
            **({"DependsOn": f"{automation}Exemption"} if exemption is not None else {}),
            **({"Metadata": {"checkov": {"skip": [
                {"id": check, "comment": why} for check, why in SCAN_SKIPS[automation]]}}}
               if automation in SCAN_SKIPS else {}),
            "Properties": {"Roles": [{"Ref": "ExecutionRole"}],
                           "Description": f"opskit {automation}: what it may do in this account",
                           "PolicyDocument": {"Version": "2012-10-17",
                                              "Statement": member_statements(template,
                                                                             automation)}}}
        if exemption is not None:
            resources[f"{automation}Exemption"] = {
                "Type": "AWS::IAM::RolePolicy",
                "Condition": f"{automation}Enabled",
                "Properties": {"RoleName": {"Ref": "ExecutionRole"},
                               "PolicyName": f"opskit-{automation}-exemption",
                               "PolicyDocument": exemption["Properties"]["PolicyDocument"]}}
        resources.update(member_resources(automation))
    return {"AWSTemplateFormatVersion": "2010-09-09",
            "Description": "opskit member-account role: deploy as a StackSet to every account "
                           "the automations act in. Generated from template.yaml by "
                           "tools/member_role.py.",
            "Parameters": parameters, "Conditions": conditions, "Resources": resources,
            "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["ExecutionRole", "Arn"]}}}}


HEADER = ("# Generated from template.yaml by tools/member_role.py (make member-role): do not edit "
          "by hand.\n# Deploy as a CloudFormation StackSet to every member account (docs/"
          "organization-scale.md).\n")


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the exemption documents) as literal blocks."""


def _literal(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _literal)


def text() -> str:
    """member-role.yaml as it must be, for the catalog's templates."""
    # plain dicts: a YAML loader patched by another library may have produced OrderedDicts
    document = json.loads(json.dumps(render(catalog(load))))
    return HEADER + yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=100)


def main() -> None:
    MEMBER.write_text(text())
    print(f"written {MEMBER}")


if __name__ == "__main__":
    main()
