"""The template's own rules: least privilege, one role per function, secrets by reference, and
every function deployable alone (its condition, log group and error alarm)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tools.catalog import catalog, load_template

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


def _load(path: Path) -> dict[str, Any]:
    return load_template(path, style="short")


# The catalog as deployed: the root and every automation's template (tools/catalog.py).
DOC: dict[str, Any] = catalog(_load, style="short")
RESOURCES: dict[str, Any] = DOC["Resources"]
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}


def _statements(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if "Effect" in value and ("Action" in value or "NotAction" in value):
            found.append(value)
        for item in value.values():
            found.extend(_statements(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_statements(item))
    return found


def test_no_allow_statement_grants_every_action() -> None:
    for name, resource in RESOURCES.items():
        if resource["Type"] == "AWS::KMS::Key":
            continue  # key policies give the account root kms:* (administration), by design
        for statement in _statements(resource.get("Properties", {})):
            if statement.get("Effect") != "Allow":
                continue  # a Deny of sqs:* (TLS only) narrows, it never grants
            actions = statement.get("Action", [])
            actions = actions if isinstance(actions, list) else [actions]
            assert "*" not in actions, name
            assert all(not str(a).endswith(":*") for a in actions), (name, actions)
            assert "NotAction" not in statement, name


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_has_its_own_role_condition_logs_and_alarm(name: str) -> None:
    function = FUNCTIONS[name]
    assert "Role" not in function["Properties"]  # SAM makes one role per function from Policies
    assert function["Properties"]["Policies"]
    condition = function["Condition"]
    assert condition in DOC["Conditions"]
    stem = name.removesuffix("Function")
    assert RESOURCES[f"{stem}LogGroup"]["Condition"] == condition
    assert RESOURCES[f"{stem}LogGroup"]["Properties"]["KmsKeyId"] == {"GetAtt": "AlertKey.Arn"}
    # its Errors alarm: with the function, or (FunctionErrorAlarms) with the function and the
    # stack's choice, each automation's own condition in the catalog
    errors = RESOURCES[f"{stem}ErrorsAlarm"]["Condition"]
    assert errors == condition or DOC["Conditions"][errors] == {"And": [
        {"Condition": condition}, {"Equals": [{"Ref": "FunctionErrorAlarms"}, "true"]}]}


def test_secrets_are_passed_by_reference_only() -> None:
    suspicious = ("hooks.slack.com", "AKIA", "BEGIN PRIVATE KEY", "xoxb-")
    for name, function in FUNCTIONS.items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        for key, value in variables.items():
            assert not any(s in str(value) for s in suspicious), (name, key)
            if key in {"SLACK_WEBHOOK_SECRET", "SLACK_WEBHOOK_PARAMETER"} or any(
                    word in key for word in ("TOKEN", "PASSWORD")):
                # the name of a secret (a parameter named ...Name or ...Arn), never its value;
                # under an !If, each branch is such a name or empty
                branches = value["If"][1:] if isinstance(value, dict) and "If" in value else [value]
                for branch in branches:
                    reference = branch.get("Ref", "") if isinstance(branch, dict) else branch
                    assert reference == "" or str(reference).endswith(("Name", "Arn")), (
                        name, key, value)
                assert any(isinstance(b, dict) for b in branches), (name, key, value)
    for name in DOC["Parameters"]:
        if any(word in name for word in ("Secret", "Password", "Token", "Webhook")):
            assert name.endswith(("Name", "Arn")), name


def test_dry_run_is_the_default_for_every_function() -> None:
    assert DOC["Parameters"]["DryRun"]["Default"] == "true"
    assert DOC["Globals"]["Function"]["Environment"]["Variables"]["DRY_RUN"] == {"Ref": "DryRun"}
    for name, function in FUNCTIONS.items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        assert "DRY_RUN" not in variables, name  # nobody overrides the global


def test_eventbridge_may_use_the_alert_key_without_source_conditions() -> None:
    """The SNS developer guide (key management for encrypted topics): EventBridge publishing to
    an encrypted topic does not support aws:SourceAccount, aws:SourceArn or aws:SourceOrgID, so
    a key statement for events.amazonaws.com with one of them sends every event to the DLQ."""
    statements = RESOURCES["AlertKey"]["Properties"]["KeyPolicy"]["Statement"]
    for_events = [s for s in statements
                  if "events.amazonaws.com" in _as_list(s.get("Principal", {}).get("Service", []))]
    assert for_events
    for statement in for_events:
        conditions = json.dumps(statement.get("Condition", {}))
        assert not re.search(r"aws:Source(Account|Arn|OrgID)", conditions, re.IGNORECASE)
        assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(_as_list(statement["Action"]))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _event_names(function: str) -> set[str]:
    names: set[str] = set()
    for event in FUNCTIONS[function]["Properties"].get("Events", {}).values():
        detail = event.get("Properties", {}).get("Pattern", {}).get("detail", {})
        names |= set(detail.get("eventName", []))
    return names


@pytest.mark.parametrize(("function", "handled"), [
    ("AutoTaggerFunction", "auto_tagger.resources:EXTRACTORS"),
    ("S3PublicRemediationFunction", "s3_public_remediation.app:BUCKET_CALLS,ACCOUNT_CALLS"),
    ("SgOpenPortRemediationFunction", "sg_open_port_remediation.events:CALLS"),
])
def test_the_rules_deliver_exactly_the_calls_the_handler_handles(function: str,
                                                                 handled: str) -> None:
    """One source of truth: a call in the rule but not the handler is delivered for nothing; one
    in the handler but not the rule never arrives."""
    import importlib

    module, names = handled.split(":")
    loaded = importlib.import_module(module)
    expected = set().union(*(set(getattr(loaded, name)) for name in names.split(",")))
    assert _event_names(function) == expected


# Tag writes that IAM cannot narrow by key, each with its reason.
UNNARROWABLE = {
    "s3:PutBucketTagging": "replaces the bucket's whole tag set: the auto-tagger merges and "
                           "writes every existing key back",
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_tag_write_names_the_exact_keys_it_may_write(name: str) -> None:
    """A tag writer that could write any key could set the exemption tag, or undo another
    automation's mark: each may write only its own keys (aws:TagKeys), and only with keys
    (the Null guard: ForAllValues is true of an empty set)."""
    from tests.exemption import is_tag_write

    for statement in _statements(FUNCTIONS[name]["Properties"].get("Policies", [])):
        actions = set(_as_list(statement.get("Action", [])))
        writes = {a for a in actions if is_tag_write(a)} - set(UNNARROWABLE)
        if statement["Effect"] != "Allow" or not writes:
            continue
        condition = statement.get("Condition", {})
        keys = (condition.get("ForAllValues:StringEquals", {}).get("aws:TagKeys")
                or condition.get("ForAllValues:StringLike", {}).get("aws:TagKeys"))
        assert keys, (name, statement.get("Sid"))
        for key in _as_list(keys):
            text = json.dumps(key)
            assert "*" not in text or text.rstrip('"').endswith(":*"), (name, key)
        assert condition.get("Null", {}).get("aws:TagKeys") == "false", (name, statement["Sid"])
        assert not actions - writes - set(UNNARROWABLE), (
            name, statement["Sid"], "tag writes share no statement with other actions")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_role_that_acts_denies_acting_on_exempt_resources(name: str) -> None:
    """The exemption tag is honoured in IAM too: the function's declared actions on resources
    are denied where the resource carries ${ExemptionTagKey}, and no tag write may name it."""
    from tests.exemption import acting_actions, exemption_document
    from tests.test_permissions import permissions_of

    automation = FUNCTIONS[name]["Properties"]["Handler"].split(".")[0]
    permissions = permissions_of(automation)
    prefix = name.removesuffix("Function")
    policy = RESOURCES.get(f"{prefix}Exemption")
    if not acting_actions(permissions):
        assert policy is None
        return
    assert policy is not None, f"{prefix}Exemption is missing: render it with tests/exemption.py"
    assert policy["Properties"]["RoleName"] == {"Ref": f"{prefix}FunctionRole"}
    assert policy["Condition"] == FUNCTIONS[name]["Condition"]
    document = json.loads(policy["Properties"]["PolicyDocument"]["Sub"])
    assert document == exemption_document(permissions)
    assert "${ExemptionTagKey}" in policy["Properties"]["PolicyDocument"]["Sub"]
    assert "ExemptionTagKey" in DOC["Parameters"]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_kms_grants_are_only_for_aws_services_acting_on_our_behalf(name: str) -> None:
    """kms:CreateGrant is always narrowed: to one named key, or through a named service."""
    for statement in _statements(FUNCTIONS[name]["Properties"].get("Policies", [])):
        if statement["Effect"] != "Allow" or "kms:CreateGrant" not in _as_list(
                statement["Action"]):
            continue
        condition = json.dumps(statement.get("Condition", {}))
        own_key = isinstance(statement["Resource"], dict) and bool(
            {"GetAtt", "Ref"} & set(statement["Resource"]))  # one named key
        assert own_key or "kms:ViaService" in condition, (name, statement.get("Sid"))
        if "ec2." in condition:  # EBS: decrypt one volume's key, as the AWS scheduler does
            assert "kms:GrantIsForAWSResource" in condition
            assert '"kms:GrantOperations": ["Decrypt"]' in condition


@pytest.mark.parametrize("name", sorted(
    n for n, f in FUNCTIONS.items()
    if any(e["Type"] == "SQS" for e in f["Properties"].get("Events", {}).values())))
def test_a_queue_consumer_reads_only_its_own_queue(name: str) -> None:
    """SAM's managed policy for an SQS event source allows every queue; a Deny narrows it to
    the queue the function consumes (the notifier's, or its dispatch work queue)."""
    (event,) = [e for e in FUNCTIONS[name]["Properties"]["Events"].values()
                if e["Type"] == "SQS"]
    queue = event["Properties"]["Queue"]
    queue = queue["If"][1] if "If" in queue else queue
    statements = _statements(FUNCTIONS[name]["Properties"]["Policies"])
    (deny,) = [s for s in statements if s.get("Sid") == "OnlyItsOwnQueue"]
    assert deny["Effect"] == "Deny"
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage"} <= set(deny["Action"])
    assert deny["NotResource"] == queue
