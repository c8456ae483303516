"""End to end through `iam_policy_guard.app.lambda_handler` on moto: each trigger (the sample
events, the daily sweep), each mode, and the records the guard must skip or refuse."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from iam_policy_guard.app import lambda_handler
from iam_policy_guard.rules import Scope, permission_findings
from tests.conftest import AlertInbox, FakeLambdaContext, load_event
from tests.iam_policy_guard import seed
from tests.iam_policy_guard.test_corpus import (
    ORG,
    PARTNER,
    PERMISSION_CORPUS,
    TRUST_CORPUS,
)

ACCOUNT = seed.ACCOUNT
Env = Callable[..., None]


def sample(stem: str) -> dict[str, Any]:
    return load_event(f"iam_policy_guard/{stem}.json")


def actions(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [action for report in reports for action in report["actions"]
            if action["action"] != "inspect"]


@pytest.fixture
def report_mode(aws: None, env: Env) -> None:
    env(DRY_RUN="false", POWERTOOLS_SERVICE_NAME="iam_policy_guard")


@pytest.fixture
def remediate(aws: None, env: Env) -> None:
    env(DRY_RUN="false", GUARD_MODE="remediate", POWERTOOLS_SERVICE_NAME="iam_policy_guard")


# ---- report mode (the default) -----------------------------------------------------------------

@pytest.mark.usefixtures("report_mode")
def test_report_mode_publishes_the_finding_and_its_statement(
        alert_inbox: AlertInbox, env: Env, lambda_context: FakeLambdaContext) -> None:
    env(ALERT_TOPIC_ARN=alert_inbox.topic_arn)
    seed.build("put-role-policy")
    before = seed.snapshot()
    result = lambda_handler(sample("put-role-policy"), lambda_context)
    assert result["counts"]["failed"] == 0
    (message,) = alert_inbox.received()
    assert message["automation"] == "iam_policy_guard"
    assert message["severity"] == "critical"
    assert "orders-api" in message["title"]
    (action,) = message["actions"]
    assert action["action"] == "report-dangerous-iam"
    assert action["resource"] == f"arn:aws:iam::{ACCOUNT}:role/orders-api"
    (finding,) = action["details"]["findings"]
    assert finding["rule"] == "full-admin"
    assert finding["statement"] == [{"Sid": "Debug", "Effect": "Allow", "Action": "*",
                                     "Resource": "*"}]
    assert finding["statements"] == ["statement 0 (Debug)"]
    assert message["trigger"]["event"] == "PutRolePolicy"
    assert "jane.doe@example.com" in message["trigger"]["by"]
    assert seed.snapshot() == before  # reported, nothing changed


@pytest.mark.usefixtures("report_mode")
@pytest.mark.parametrize("stem", sorted(seed.EXPECTED))
def test_each_sample_is_reported_with_its_findings_and_nothing_changed(
        stem: str, reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build(stem)
    before = seed.snapshot()
    lambda_handler(sample(stem), lambda_context)
    (report,) = reports
    assert set().union(*seed.findings_of(reports).values()) == seed.EXPECTED[stem], report
    assert {a["action"] for a in actions(reports)} == {"report-dangerous-iam"}
    assert report["counts"]["failed"] == 0
    assert seed.snapshot() == before


@pytest.mark.usefixtures("report_mode")
def test_a_root_access_key_is_reported_without_its_secret(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    lambda_handler(sample("create-access-key-root"), lambda_context)
    (action,) = actions(reports)
    assert action["resource"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert "AKIAXJ5KQ2WNR00TK3Y5" in action["details"]["subject"]
    assert "secret" not in json.dumps(reports).lower()


@pytest.mark.usefixtures("report_mode")
def test_a_safe_change_publishes_nothing(
        alert_inbox: AlertInbox, env: Env, reports: list[dict[str, Any]],
        lambda_context: FakeLambdaContext) -> None:
    env(ALERT_TOPIC_ARN=alert_inbox.topic_arn)
    client = seed.iam()
    client.create_role(RoleName="orders-api", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [seed.LAMBDA_TRUST]}))
    client.put_role_policy(RoleName="orders-api", PolicyName="temporary-debug",
                           PolicyDocument=json.dumps(seed.READ_LOGS))
    result = lambda_handler(sample("put-role-policy"), lambda_context)
    assert result["counts"] == {"done": 0, "planned": 0, "skipped": 0, "failed": 0}
    assert actions(reports) == []
    assert alert_inbox.received() == []


# ---- remediate mode ----------------------------------------------------------------------------

def _one_done(reports: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (action,) = actions(reports)
    assert (action["action"], action["status"]) == (name, "done"), action
    assert action["details"]["mode"] == "remediate"
    return action


@pytest.mark.usefixtures("remediate")
def test_remediate_deletes_an_inline_policy_and_records_its_document(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("put-role-policy")
    result = lambda_handler(sample("put-role-policy"), lambda_context)
    assert result["counts"]["done"] == 1
    assert seed.iam().list_role_policies(RoleName="orders-api")["PolicyNames"] == []
    action = _one_done(reports, "delete-inline-policy")
    document = json.loads(seed.request("put-role-policy")["policyDocument"])
    assert action["details"]["before"] == {"policy_name": "temporary-debug",
                                           "document": document}
    assert action["details"]["undo"]["call"] == "put_role_policy"
    assert json.loads(action["details"]["undo"]["params"]["PolicyDocument"]) == document


@pytest.mark.usefixtures("remediate")
def test_remediate_deletes_a_group_inline_policy(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("put-group-policy")
    lambda_handler(sample("put-group-policy"), lambda_context)
    assert seed.iam().list_group_policies(GroupName="developers")["PolicyNames"] == []
    action = _one_done(reports, "delete-inline-policy")
    assert action["details"]["before"]["policy_name"] == "power-user"


@pytest.mark.usefixtures("remediate")
def test_remediate_detaches_a_managed_policy_from_a_role(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("attach-role-policy")
    lambda_handler(sample("attach-role-policy"), lambda_context)
    assert seed.iam().list_attached_role_policies(
        RoleName="orders-worker")["AttachedPolicies"] == []
    arn = f"arn:aws:iam::{ACCOUNT}:policy/key-admin"
    action = _one_done(reports, "detach-policy")
    assert action["details"]["before"] == {"attached": arn}
    assert action["details"]["undo"] == {"call": "attach_role_policy", "params": {
        "RoleName": "orders-worker", "PolicyArn": arn}}


@pytest.mark.usefixtures("remediate")
def test_remediate_detaches_administrator_access_from_a_user(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("attach-user-policy")
    lambda_handler(sample("attach-user-policy"), lambda_context)
    assert seed.iam().list_attached_user_policies(UserName="carol")["AttachedPolicies"] == []
    action = _one_done(reports, "detach-policy")
    assert action["details"]["before"] == {"attached": seed.ADMINISTRATOR_ACCESS}


@pytest.mark.usefixtures("remediate")
def test_remediate_reverts_a_new_default_version(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("create-policy-version")
    arn = f"arn:aws:iam::{ACCOUNT}:policy/team-support"
    lambda_handler(sample("create-policy-version"), lambda_context)
    assert seed.iam().get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    action = _one_done(reports, "revert-default-version")
    assert action["details"]["before"] == {"default_version": "v2", "reverted_to": "v1"}
    assert action["details"]["undo"] == {"call": "set_default_policy_version",
                                         "params": {"PolicyArn": arn, "VersionId": "v2"}}


@pytest.mark.usefixtures("remediate")
def test_remediate_strips_the_external_trust_statement(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("update-assume-role-policy")
    before = json.loads(seed.request("update-assume-role-policy")["policyDocument"])
    lambda_handler(sample("update-assume-role-policy"), lambda_context)
    trust = seed.iam().get_role(RoleName="reporting-export")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [before["Statement"][0]]  # the Lambda statement only
    action = _one_done(reports, "strip-trust-statements")
    assert action["details"]["before"]["trust_policy"] == before
    assert action["details"]["before"]["removed_statements"] == [before["Statement"][1]]


@pytest.mark.usefixtures("remediate")
def test_a_trust_policy_with_nothing_safe_is_reported_not_changed(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("create-role")
    before = seed.snapshot()
    lambda_handler(sample("create-role"), lambda_context)
    (action,) = actions(reports)
    assert action["action"] == "report-dangerous-iam"
    assert "no safe trust policy" in action["details"]["no_remedy"]
    assert seed.snapshot() == before


@pytest.mark.usefixtures("remediate")
def test_joining_a_group_and_a_root_key_are_only_reported(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("add-user-to-group")
    before = seed.snapshot()
    lambda_handler(sample("add-user-to-group"), lambda_context)
    lambda_handler(sample("create-access-key-root"), lambda_context)
    assert [a["action"] for a in actions(reports)] == ["report-dangerous-iam"] * 2
    assert seed.snapshot() == before


@pytest.mark.usefixtures("remediate")
def test_dry_run_in_remediate_mode_plans_and_changes_nothing(
        env: Env, reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    env(DRY_RUN="true")
    seed.build("put-role-policy")
    before = seed.snapshot()
    result = lambda_handler(sample("put-role-policy"), lambda_context)
    assert result["counts"]["done"] == 0
    (action,) = actions(reports)
    assert (action["action"], action["status"]) == ("delete-inline-policy", "planned")
    assert seed.snapshot() == before


@pytest.mark.usefixtures("report_mode")
def test_a_principal_tagged_quarantine_gets_the_deny_all_policy(
        env: Env, reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    client = seed.iam()
    deny = client.create_policy(PolicyName="opskit-quarantine", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*",
                                                 "Resource": "*"}]}))["Policy"]["Arn"]
    env(QUARANTINE_POLICY_ARN=deny)
    seed.build("put-role-policy", tags={"opskit:iam-guard": "quarantine"})
    lambda_handler(sample("put-role-policy"), lambda_context)
    attached = client.list_attached_role_policies(RoleName="orders-api")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [deny]
    assert client.list_role_policies(RoleName="orders-api")["PolicyNames"] == [
        "temporary-debug"]  # quarantined, not remediated
    (action,) = actions(reports)
    assert (action["action"], action["status"]) == ("quarantine", "done")
    assert action["details"]["undo"] == {"call": "detach_role_policy", "params": {
        "RoleName": "orders-api", "PolicyArn": deny}}


@pytest.mark.usefixtures("remediate")
def test_an_exempt_principal_is_reported_as_skipped_and_kept(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("put-role-policy", tags={"opskit:exempt": "true"})
    before = seed.snapshot()
    lambda_handler(sample("put-role-policy"), lambda_context)
    (action,) = actions(reports)
    assert action["status"] == "skipped"
    assert seed.snapshot() == before


# ---- records the guard skips or refuses --------------------------------------------------------

def _skipped(event: dict[str, Any], context: FakeLambdaContext,
             reports: list[dict[str, Any]]) -> str:
    before = seed.snapshot()
    result = lambda_handler(event, context)
    assert result["counts"] == {"done": 0, "planned": 0, "skipped": 0, "failed": 0}
    assert reports == []
    assert seed.snapshot() == before
    reason: str = result["skipped"]
    return reason


@pytest.mark.usefixtures("remediate")
def test_a_malformed_record_names_the_field_and_changes_nothing(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("put-role-policy")
    reason = _skipped(sample("skip-malformed-record"), lambda_context, reports)
    assert reason.startswith("malformed: detail.requestParameters.roleName=None is invalid")
    assert "role name" in reason


@pytest.mark.usefixtures("remediate")
def test_a_failed_call_is_skipped(reports: list[dict[str, Any]],
                                  lambda_context: FakeLambdaContext) -> None:
    seed.build("put-role-policy")  # the dangerous policy exists, but this call did not put it
    reason = _skipped(sample("skip-error-code"), lambda_context, reports)
    assert reason == "the call failed (AccessDenied)"


@pytest.mark.usefixtures("remediate")
def test_an_event_from_another_region_is_refused(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("put-role-policy")
    event = copy.deepcopy(sample("put-role-policy"))
    event["region"] = event["detail"]["awsRegion"] = "eu-west-1"
    reason = _skipped(event, lambda_context, reports)
    assert reason.startswith("malformed: detail.awsRegion='eu-west-1' is invalid: expected "
                             "us-east-1")


@pytest.mark.usefixtures("remediate")
def test_an_unknown_event_name_is_refused(reports: list[dict[str, Any]],
                                          lambda_context: FakeLambdaContext) -> None:
    seed.build("put-role-policy")
    event = copy.deepcopy(sample("put-role-policy"))
    event["detail"]["eventName"] = "DeleteRolePolicy"
    reason = _skipped(event, lambda_context, reports)
    assert reason == "DeleteRolePolicy is not an IAM change the guard checks"


@pytest.mark.usefixtures("remediate")
def test_an_event_from_another_source_is_refused(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("put-role-policy")
    event = copy.deepcopy(sample("put-role-policy"))
    event["source"] = "aws.ec2"
    reason = _skipped(event, lambda_context, reports)
    assert reason.startswith("malformed: source='aws.ec2' is invalid")


@pytest.mark.usefixtures("remediate")
def test_the_guards_own_call_is_skipped(env: Env, reports: list[dict[str, Any]],
                                        lambda_context: FakeLambdaContext) -> None:
    seed.build("put-role-policy")
    env(OWN_ROLE_NAME="AWSReservedSSO_PlatformAdmin_4f1c2b7a9d3e6051")  # the sample's caller
    reason = _skipped(sample("put-role-policy"), lambda_context, reports)
    assert reason == "made by this automation's own role"


@pytest.mark.usefixtures("remediate")
def test_a_policy_version_not_made_default_is_skipped(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("create-policy-version")
    event = copy.deepcopy(sample("create-policy-version"))
    event["detail"]["requestParameters"]["setAsDefault"] = False
    reason = _skipped(event, lambda_context, reports)
    assert "not made default" in reason


@pytest.mark.usefixtures("remediate")
def test_a_scheduled_event_dated_ahead_is_refused(lambda_context: FakeLambdaContext) -> None:
    event = copy.deepcopy(sample("scheduled-sweep"))
    event["time"] = "2999-01-01T00:00:00Z"
    with pytest.raises(ValueError, match=r"^time='2999-01-01T00:00:00Z' is invalid"):
        lambda_handler(event, lambda_context)


# ---- the daily sweep ---------------------------------------------------------------------------

@pytest.mark.usefixtures("report_mode")
def test_the_sweep_finds_what_every_sample_left(
        alert_inbox: AlertInbox, env: Env, reports: list[dict[str, Any]],
        lambda_context: FakeLambdaContext) -> None:
    env(ALERT_TOPIC_ARN=alert_inbox.topic_arn)
    seed.build("scheduled-sweep")
    before = seed.snapshot()
    result = lambda_handler(sample("scheduled-sweep"), lambda_context)
    assert result["failed_targets"] == []
    assert [(t["account"], t["region"]) for t in result["targets"]] == [(ACCOUNT, "us-east-1")]
    assert seed.findings_of(reports) == seed.SWEEP_SUBJECTS
    (message,) = alert_inbox.received()
    assert message["severity"] == "critical"
    assert message["checked"] >= len(seed.SWEEP_SUBJECTS)
    assert seed.snapshot() == before


@pytest.mark.usefixtures("remediate")
def test_the_sweep_remediates_principals_and_only_reports_policy_versions(
        reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    seed.build("scheduled-sweep")
    lambda_handler(sample("scheduled-sweep"), lambda_context)
    by_resource = {a["resource"]: a for a in actions(reports)}
    client = seed.iam()
    assert client.list_role_policies(RoleName="orders-api")["PolicyNames"] == []
    assert client.list_user_policies(UserName="bob")["PolicyNames"] == []
    assert client.list_attached_group_policies(GroupName="oncall")["AttachedPolicies"] == []
    assert client.list_attached_user_policies(UserName="carol")["AttachedPolicies"] == []
    role = f"arn:aws:iam::{ACCOUNT}:role/orders-api"
    assert by_resource[role]["status"] == "done"
    assert by_resource[role]["details"]["before"]["policy_name"] == "temporary-debug"
    # The established default version of a managed policy: reported, never reverted; and the
    # policy stays attached (its content is the policy's finding, not the attachment's).
    pipeline = f"arn:aws:iam::{ACCOUNT}:policy/data-pipeline"
    assert by_resource[pipeline]["action"] == "report-dangerous-iam"
    assert client.get_policy(PolicyArn=pipeline)["Policy"]["DefaultVersionId"] == "v3"
    key_admin = f"arn:aws:iam::{ACCOUNT}:policy/key-admin"
    assert by_resource[key_admin]["action"] == "report-dangerous-iam"
    assert [p["PolicyArn"] for p in client.list_attached_role_policies(
        RoleName="orders-worker")["AttachedPolicies"]] == [key_admin]


def _corpus_account() -> tuple[dict[str, set[str]], int]:
    """Each corpus policy as a customer managed policy, each trust document as a role's: the
    resources the sweep must report, with their rules; and how many were made."""
    client = seed.iam()
    expected: dict[str, set[str]] = {}
    made = 0
    for name, document, corpus_rules in PERMISSION_CORPUS:
        if not isinstance(document, dict):
            continue  # the encoded forms: IAM stores a document, not its encoding
        try:
            arn = client.create_policy(PolicyName=name,
                                       PolicyDocument=json.dumps(document))["Policy"]["Arn"]
        except client.exceptions.MalformedPolicyDocumentException:
            continue  # moto's validator is stricter than IAM on some (e.g. the i*:* vendor)
        made += 1
        # The guard reads the principals a policy names by ARN: none exists in this account,
        # so none holds anything dangerous; only a policy write on a named principal stays a
        # warning (the policy's holder, which may be that principal, is not known).
        rules = corpus_rules
        if "pe-named-principal" not in {f.rule.id for f in permission_findings(
                document, Scope(principal_admin=lambda kind, name: False))}:
            rules = corpus_rules - {"pe-named-principal"}
        if rules:
            expected[arn] = rules
    for name, document, rules in TRUST_CORPUS:
        if not isinstance(document, dict):
            continue
        role = client.create_role(RoleName=f"trust-{name}"[:64],
                                  AssumeRolePolicyDocument=json.dumps(document))["Role"]
        made += 1
        if rules:
            expected[role["Arn"]] = rules
    return expected, made


@pytest.mark.usefixtures("report_mode")
def test_the_sweep_finds_the_corpus_dangerous_policies(
        env: Env, reports: list[dict[str, Any]], lambda_context: FakeLambdaContext) -> None:
    env(ALLOWED_ACCOUNT_IDS=PARTNER, ORGANIZATION_ID=ORG)
    expected, made = _corpus_account()
    assert made >= 60
    result = lambda_handler(sample("scheduled-sweep"), lambda_context)
    assert seed.findings_of(reports) == expected
    assert result["counts"]["failed"] == 0
    (report,) = reports
    assert report["checked"] == made
