"""What the sample events refer to (tests/test_events.py runs each through the handler, dry run):
the principals and policies each call made, with the documents the records carry (read from the
sample itself), and the findings each sample must be reported with.

`seed(stem)` builds the state on moto and returns a context manager that captures the reports the
run builds and, on exit, checks that the sample's findings were reported (with the statement that
causes them) and that IAM is exactly as it was: a dry run changes nothing. The end-to-end tests
(test_app.py) build the same scenarios with `build`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import boto3

from tests.conftest import load_event

ACCOUNT = "123456789012"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
LAMBDA_TRUST = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}
READ_LOGS = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadLogs", "Effect": "Allow", "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"],
     "Resource": "*"}]}
READ_BUCKET = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadRaw", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::acme-raw", "arn:aws:s3:::acme-raw/*"]}]}
# data-pipeline's v3, made default by the SetDefaultPolicyVersion sample (the record carries no
# document): Glue jobs run with any role it passes.
PIPELINE_V3 = {"Version": "2012-10-17", "Statement": [
    READ_BUCKET["Statement"][0],
    {"Sid": "RunJobs", "Effect": "Allow", "Action": ["glue:CreateJob", "glue:StartJobRun"],
     "Resource": "*"},
    {"Sid": "PassJobRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}
KEY_ADMIN = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ManageKeys", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}

# sample -> the rules its run reports (each with the statement, when a document causes it).
EXPECTED: dict[str, set[str]] = {
    "create-policy": {"pe-passrole-lambda", "pe-passrole-lambda-update"},
    "create-policy-version": {"sensitive-service-wildcard"},
    "set-default-policy-version": {"pe-passrole-glue"},
    "put-user-policy": {"pe-create-access-key"},
    "put-role-policy": {"full-admin"},
    "put-group-policy": {"allow-not-action"},
    "attach-user-policy": {"aws-admin-on-user"},
    "attach-role-policy": {"sensitive-service-wildcard"},
    "attach-group-policy": {"aws-admin-on-user"},
    "update-assume-role-policy": {"trust-external-account"},
    "create-role": {"trust-anyone"},
    "create-user": {"aws-admin-on-user"},
    "add-user-to-group": {"aws-admin-on-user"},
    "create-access-key-root": {"root-access-key"},
}
# Samples the guard skips: nothing is reported, nothing read or changed.
SKIPPED = ("skip-error-code", "skip-malformed-record")
# What the sweep finds in the state every sample left (one report, one action per subject).
SWEEP_SUBJECTS = {
    f"arn:aws:iam::{ACCOUNT}:policy/ci-lambda-deployer": {"pe-passrole-lambda",
                                                         "pe-passrole-lambda-update"},
    f"arn:aws:iam::{ACCOUNT}:policy/team-support": {"sensitive-service-wildcard"},
    f"arn:aws:iam::{ACCOUNT}:policy/data-pipeline": {"pe-passrole-glue"},
    f"arn:aws:iam::{ACCOUNT}:policy/key-admin": {"sensitive-service-wildcard"},
    f"arn:aws:iam::{ACCOUNT}:user/bob": {"pe-create-access-key"},
    f"arn:aws:iam::{ACCOUNT}:role/orders-api": {"full-admin"},
    f"arn:aws:iam::{ACCOUNT}:group/developers": {"allow-not-action"},
    f"arn:aws:iam::{ACCOUNT}:user/carol": {"aws-admin-on-user"},
    f"arn:aws:iam::{ACCOUNT}:group/oncall": {"aws-admin-on-user"},
    f"arn:aws:iam::{ACCOUNT}:role/reporting-export": {"trust-external-account"},
    f"arn:aws:iam::{ACCOUNT}:role/cross-account-readonly": {"trust-anyone"},
    f"arn:aws:iam::{ACCOUNT}:user/deploy-bot": {"aws-admin-on-user"},
}


def iam() -> Any:
    return boto3.client("iam", region_name="us-east-1")


def aws_managed_policy(name: str = "AdministratorAccess", account: str = ACCOUNT) -> str:
    """One AWS managed policy in moto's IAM (moto loads none of them unless told to load all,
    MOTO_IAM_LOAD_MANAGED_POLICIES, which costs every test that touches IAM)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, iam_backends

    backend = iam_backends[account]["aws"]
    policy = AWSManagedPolicy.from_data(name, account, backend.region_name,
                                        json.loads(aws_managed_policies_data)[name])
    if policy.arn not in backend.managed_policies:
        backend.managed_policies[policy.arn] = policy
        backend.aws_managed_policies.append(policy)  # not listed as the account's own
    return str(policy.arn)


def request(stem: str) -> dict[str, Any]:
    """The sample's requestParameters."""
    params: dict[str, Any] = load_event(f"iam_policy_guard/{stem}.json")["detail"][
        "requestParameters"] or {}
    return params


def _trust(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _role(client: Any, name: str, trust: str | None = None,
          tags: dict[str, str] | None = None) -> None:
    client.create_role(RoleName=name, AssumeRolePolicyDocument=trust or _trust(LAMBDA_TRUST),
                       Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])


def _user(client: Any, name: str, tags: dict[str, str] | None = None) -> None:
    client.create_user(UserName=name,
                       Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])


def _policy(client: Any, name: str, *versions: str) -> str:
    """A customer managed policy with `versions` (v1, v2...), the last one default."""
    arn: str = client.create_policy(PolicyName=name, PolicyDocument=versions[0])["Policy"]["Arn"]
    for document in versions[1:]:
        client.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
    return arn


def build(stem: str, client: Any | None = None, tags: dict[str, str] | None = None) -> None:
    """The state the sample's call left in IAM (`tags` on the principal it names)."""
    client = client or iam()
    aws_managed_policy()
    match stem:
        case "create-policy":
            _policy(client, "ci-lambda-deployer", request(stem)["policyDocument"])
        case "create-policy-version":
            _policy(client, "team-support", json.dumps(READ_LOGS), request(stem)["policyDocument"])
        case "set-default-policy-version":
            arn = _policy(client, "data-pipeline", json.dumps(READ_BUCKET),
                          json.dumps(READ_BUCKET), json.dumps(PIPELINE_V3))
            client.set_default_policy_version(PolicyArn=arn, VersionId="v2")
            client.set_default_policy_version(PolicyArn=arn, VersionId="v3")
        case "put-user-policy" | "put-role-policy" | "put-group-policy":
            params = request(stem)
            kind = stem.split("-")[1]
            name = params[f"{kind}Name"]
            if kind == "user":
                _user(client, name, tags)
                client.put_user_policy(UserName=name, PolicyName=params["policyName"],
                                       PolicyDocument=params["policyDocument"])
            elif kind == "role":
                _role(client, name, tags=tags)
                client.put_role_policy(RoleName=name, PolicyName=params["policyName"],
                                       PolicyDocument=params["policyDocument"])
            else:
                client.create_group(GroupName=name)
                client.put_group_policy(GroupName=name, PolicyName=params["policyName"],
                                        PolicyDocument=params["policyDocument"])
        case "attach-user-policy":
            _user(client, "carol", tags)
            client.attach_user_policy(UserName="carol", PolicyArn=ADMINISTRATOR_ACCESS)
        case "attach-role-policy":
            arn = _policy(client, "key-admin", json.dumps(KEY_ADMIN))
            _role(client, "orders-worker", tags=tags)
            client.attach_role_policy(RoleName="orders-worker", PolicyArn=arn)
        case "attach-group-policy" | "add-user-to-group":
            client.create_group(GroupName="oncall")
            client.attach_group_policy(GroupName="oncall", PolicyArn=ADMINISTRATOR_ACCESS)
            if stem == "add-user-to-group":
                _user(client, "dave", tags)
                client.add_user_to_group(GroupName="oncall", UserName="dave")
        case "update-assume-role-policy":
            _role(client, "reporting-export", request(stem)["policyDocument"], tags)
        case "create-role":
            _role(client, "cross-account-readonly", request(stem)["assumeRolePolicyDocument"],
                  tags)
        case "create-user":
            _user(client, "deploy-bot", tags)
            client.attach_user_policy(UserName="deploy-bot", PolicyArn=ADMINISTRATOR_ACCESS)
        case "scheduled-sweep":
            for each in EXPECTED:
                if each not in {"add-user-to-group", "create-access-key-root"}:
                    build(each, client)
        case _:
            pass  # root's key, skipped calls: nothing to find in IAM


def snapshot(client: Any | None = None) -> dict[str, Any]:
    """What the guard could change: every principal's policies, trust policy and each managed
    policy's default version (read by the test, not the function)."""
    client = client or iam()
    state: dict[str, Any] = {}
    for page in client.get_paginator("get_account_authorization_details").paginate():
        for key, name in (("UserDetailList", "UserName"), ("RoleDetailList", "RoleName"),
                          ("GroupDetailList", "GroupName")):
            for item in page.get(key, []):
                state[item["Arn"]] = {
                    "inline": sorted(json.dumps(p, sort_keys=True) for field in (
                        "UserPolicyList", "RolePolicyList", "GroupPolicyList")
                        for p in item.get(field, [])),
                    "attached": sorted(p["PolicyArn"] for p in item.get(
                        "AttachedManagedPolicies", [])),
                    "trust": item.get("AssumeRolePolicyDocument"),
                    "groups": sorted(item.get("GroupList", [])), "name": item[name]}
        for policy in page.get("Policies", []):
            state[policy["Arn"]] = policy["DefaultVersionId"]
    return state


def findings_of(reports: list[dict[str, Any]]) -> dict[str, set[str]]:
    """resource -> the rules reported on it (every report, every action but inspections)."""
    found: dict[str, set[str]] = {}
    for report in reports:
        for action in report["actions"]:
            rules = {f["rule"] for f in action["details"].get("findings", [])}
            found.setdefault(action["resource"], set()).update(rules)
    return found


@contextmanager
def captured() -> Iterator[list[dict[str, Any]]]:
    """Every report built while inside (published or not)."""
    from opskit import runner

    built: list[dict[str, Any]] = []
    build_report = runner.build_report

    def spy(*args: Any, **kwargs: Any) -> Any:
        report = build_report(*args, **kwargs)
        built.append(report.to_dict())
        return report

    with patch.object(runner, "build_report", spy):
        yield built


def _statements_named(reports: list[dict[str, Any]]) -> bool:
    """Each finding caused by a document names its statement (root keys and AWS managed
    AdministratorAccess are about who holds what, not a statement)."""
    for report in reports:
        for action in report["actions"]:
            for finding in action["details"].get("findings", []):
                if finding["rule"] not in {"root-access-key", "aws-admin-on-user"} and not \
                        finding.get("statement"):
                    return False
    return True


@contextmanager
def _checked(stem: str) -> Iterator[None]:
    before = snapshot()
    with captured() as reports:
        yield
    assert snapshot() == before, f"{stem}: a dry run changed IAM"
    if stem in SKIPPED:
        assert reports == [], f"{stem}: a skipped call built a report"
        return
    if stem == "scheduled-sweep":
        assert findings_of(reports) == SWEEP_SUBJECTS
    elif stem in EXPECTED:
        (report,) = reports
        assert set().union(*findings_of(reports).values()) == EXPECTED[stem], report
        assert report["severity"] == "critical"
        assert all(a["status"] == "planned" for a in report["actions"]), report
    assert _statements_named(reports), stem


def seed(stem: str) -> Any:
    if stem.startswith("invalid-"):
        return None  # refused before anything is read
    build(stem)
    return _checked(stem)
