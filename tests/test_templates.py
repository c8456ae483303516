"""One SAM application per automation, composed by the root: the shared parts are current, the
root passes everything each automation's template declares, and the definitions agree."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tools import templates
from tools.catalog import applications
from tools.member_role import load

AUTOMATIONS = templates.AUTOMATIONS
ROOT_DOC = load(templates.ROOT_TEMPLATE)


def test_every_template_is_current() -> None:
    """What tools/templates.py writes is what the files hold (run `make templates`)."""
    stale = [str(path.relative_to(templates.ROOT)) for path, text in templates.rendered().items()
             if path.read_text() != text]
    assert stale == []


def test_every_automation_folder_is_an_application_of_the_root() -> None:
    folders = sorted(p.parent.name for p in (templates.ROOT / "functions").glob("*/template.yaml"))
    assert folders == sorted(a.folder for a in AUTOMATIONS)
    composed = {name: app["Properties"]["Location"]
                for name, app in applications(ROOT_DOC).items()}
    assert composed == {a.prefix: f"functions/{a.folder}/template.yaml" for a in AUTOMATIONS}
    for automation in AUTOMATIONS:
        app = ROOT_DOC["Resources"][automation.prefix]
        assert app["Condition"] == f"{automation.prefix}Enabled"
        assert ROOT_DOC["Conditions"][app["Condition"]] == {
            "Fn::Equals": [{"Ref": f"Enable{automation.prefix}"}, "true"]}


@pytest.mark.parametrize("automation", AUTOMATIONS, ids=lambda a: a.folder)
def test_the_root_passes_every_parameter_with_the_same_definition(
        automation: templates.Automation) -> None:
    """A setting of the catalog reaches the automation, and means the same in both templates
    (its type, default, allowed values and description)."""
    nested = load(templates.template_path(automation))
    passed = ROOT_DOC["Resources"][automation.prefix]["Properties"]["Parameters"]
    assert set(passed) == set(nested["Parameters"])
    for name, definition in nested["Parameters"].items():
        if name in templates.SHARED_ARNS or name == "RotationFunctionArn":
            assert definition["Default"] == ""  # created alone when not passed
            continue
        assert passed[name] == {"Ref": name}
        assert ROOT_DOC["Parameters"][name] == definition, name


@pytest.mark.parametrize("automation", AUTOMATIONS, ids=lambda a: a.folder)
def test_each_function_is_built_from_its_own_folder(automation: templates.Automation) -> None:
    nested = load(templates.template_path(automation))
    function = nested["Resources"][f"{automation.prefix}Function"]
    assert function["Properties"]["CodeUri"] == "./"
    assert function["Properties"]["Handler"] == f"{automation.folder}.app.lambda_handler"
    assert function["Metadata"]["BuildMethod"] == "makefile"
    makefile = (templates.template_path(automation).parent / "Makefile").read_text()
    assert f"build-{automation.prefix}Function:" in makefile
    assert f'"$(ARTIFACTS_DIR)/{automation.folder}"' in makefile


def test_the_root_has_no_function_of_its_own() -> None:
    kinds = {resource["Type"] for resource in ROOT_DOC["Resources"].values()}
    assert "AWS::Serverless::Function" not in kinds
    assert "Globals" not in ROOT_DOC
    # Parameters, conditions and one application per automation: about 90 lines each.
    assert len(Path(templates.ROOT_TEMPLATE).read_text().splitlines()) < 100 * len(AUTOMATIONS)


def _transformed(automation: templates.Automation) -> dict[str, Any]:
    """The automation's template as SAM turns it into CloudFormation (code locations aside)."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    class Policies:
        def load(self) -> dict[str, str]:
            return {name: f"arn:aws:iam::aws:policy/{name}" for name in (
                "AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess",
                "AWSLambdaSQSQueueExecutionRole")}

    document = yaml_parse(templates.template_path(automation).read_text())
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/function.zip"
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = "s3://bucket/layer.zip"
    transformed: dict[str, Any] = transform(document, {}, Policies())
    return transformed


def _dropped_branches(value: Any, where: str = "") -> list[str]:
    found = []
    if isinstance(value, dict):
        branches = value.get("Fn::If")
        if isinstance(branches, list) and str(branches[0]).startswith("Own") and branches[2] in (
                "", None, {"Ref": "AWS::NoValue"}):
            found.append(where)
        for key, item in value.items():
            found += _dropped_branches(item, f"{where}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _dropped_branches(item, f"{where}[{index}]")
    return found


@pytest.mark.parametrize("automation", AUTOMATIONS, ids=lambda a: a.folder)
def test_sam_keeps_the_composed_branch_of_every_shared_reference(
        automation: templates.Automation, monkeypatch: pytest.MonkeyPatch) -> None:
    """SAM rewrites some properties (an EventInvokeConfig destination under !If lost its
    composed branch): after the transform, every shared reference still has both."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    transformed = _transformed(automation)
    assert _dropped_branches(transformed["Resources"]) == []
    destinations = {name: r for name, r in transformed["Resources"].items()
                    if r["Type"] == "AWS::Lambda::EventInvokeConfig"}
    if automation.retries is None:
        assert destinations == {}  # invoked synchronously only
        return
    (destination,) = destinations.values()
    assert destination["Properties"]["MaximumRetryAttempts"] == automation.retries
    assert destination["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::If": ["OwnDeadLetters", {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
                   {"Ref": "DeadLetterQueueArn"}]}


ALERT_TOPIC = {"Fn::If": ["OwnAlerts", {"Ref": "AlertTopic"}, {"Ref": "AlertTopicArn"}]}


def _watches_the_dead_letter_queue(alarm: dict[str, Any], topic: Any) -> None:
    assert alarm["Type"] == "AWS::CloudWatch::Alarm"
    properties = alarm["Properties"]
    assert (properties["Namespace"], properties["MetricName"]) == (
        "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert properties["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": "DeadLetterQueue.QueueName"}}]
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (
        0, "GreaterThanThreshold")
    assert properties["AlarmActions"] == [topic]


@pytest.mark.parametrize("automation", AUTOMATIONS, ids=lambda a: a.folder)
def test_every_failure_pages_with_or_without_the_errors_alarm(
        automation: templates.Automation) -> None:
    """A function's Errors alarm is unconditional when a failure can miss the dead-letter queue
    (invoked synchronously, or fed by a queue of its own); otherwise it is FunctionErrorAlarms'
    choice, and every failed invocation goes to the dead-letter queue, whose alarm pages, in
    the catalog and deployed alone."""
    nested = load(templates.template_path(automation))
    resources, conditions = nested["Resources"], nested["Conditions"]
    alarm = resources[f"{automation.prefix}ErrorsAlarm"]
    assert alarm["Properties"]["MetricName"] == "Errors"
    assert alarm["Properties"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": {"Ref": f"{automation.prefix}Function"}}]
    assert alarm["Properties"]["AlarmActions"] == [ALERT_TOPIC]
    if not automation.dead_lettered:
        assert automation.retries is None or automation.queue_fed
        assert "Condition" not in alarm
        assert "ErrorsAlarm" not in conditions  # unused, it would be a template error
        return
    assert alarm["Condition"] == "ErrorsAlarm"
    assert conditions["ErrorsAlarm"] == {"Fn::Equals": [{"Ref": "FunctionErrorAlarms"}, "true"]}
    destination = resources[f"{automation.prefix}FailureDestination"]
    assert destination["Type"] == "AWS::Lambda::EventInvokeConfig"
    assert "Condition" not in destination
    assert destination["Properties"]["FunctionName"] == {"Ref": f"{automation.prefix}Function"}
    assert destination["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::If": ["OwnDeadLetters", {"Fn::GetAtt": "DeadLetterQueue.Arn"},
                   {"Ref": "DeadLetterQueueArn"}]}
    # alone: its own queue and alarm
    assert resources["DeadLetterQueue"]["Condition"] == "OwnDeadLetters"
    assert resources["DeadLetterQueueAlarm"]["Condition"] == "OwnDeadLetters"
    _watches_the_dead_letter_queue(resources["DeadLetterQueueAlarm"], ALERT_TOPIC)
    # composed: the root's queue, passed in, and its alarm
    passed = ROOT_DOC["Resources"][automation.prefix]["Properties"]["Parameters"]
    assert passed["DeadLetterQueueArn"] == {"Fn::GetAtt": "DeadLetterQueue.Arn"}
    assert "Condition" not in ROOT_DOC["Resources"]["DeadLetterQueueAlarm"]
    _watches_the_dead_letter_queue(ROOT_DOC["Resources"]["DeadLetterQueueAlarm"],
                                   {"Ref": "AlertTopic"})


def test_only_the_functions_a_failure_can_miss_the_queue_from_keep_their_errors_alarm() -> None:
    kept = sorted(a.folder for a in AUTOMATIONS if not a.dead_lettered)
    assert kept == ["access_key_rotation", "slack_notifier"]
    assert ROOT_DOC["Parameters"]["FunctionErrorAlarms"]["Default"] == "false"


# The longest name the opskit stack may have (docs/opskit.md, Templates): its schedules are
# named `<stack>-<what>`, and EventBridge Scheduler takes names of up to 64 characters.
MAX_STACK_NAME = 35


@pytest.mark.parametrize("automation", AUTOMATIONS, ids=lambda a: a.folder)
def test_schedule_names_fit_for_any_allowed_stack_name(automation: templates.Automation) -> None:
    """A nested stack's own name is `<root>-<Application>-<random>`: schedules named after it
    would pass Scheduler's 64 characters. Composed, they are named after the root's name."""
    text = templates.template_path(automation).read_text()
    names = re.findall(r'!If \[OwnName, !Sub "\$\{AWS::StackName\}-([a-z0-9-]+)", '
                       r'!Sub "\$\{CatalogStackName\}-([a-z0-9-]+)"\]', text)
    assert len(names) == text.count("Type: ScheduleV2")  # every schedule is named so
    for own, composed in names:
        assert own == composed
    for _, suffix in names:
        assert MAX_STACK_NAME + 1 + len(suffix) <= 64, suffix


@pytest.mark.parametrize("automation", AUTOMATIONS, ids=[a.folder for a in AUTOMATIONS])
def test_time_zones_come_from_the_layer_as_the_cold_start_benchmark_measures(
        automation: templates.Automation) -> None:
    """PYTHONTZPATH is empty in every function (zoneinfo reads the layer's pinned tzdata only),
    and bench/cold_start.py measures the imports with that same environment."""
    from bench.cold_start import _environment

    document = load(templates.ROOT / "functions" / automation.folder / "template.yaml")
    variables = document["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["PYTHONTZPATH"] == ""
    assert _environment(automation.folder)["PYTHONTZPATH"] == variables["PYTHONTZPATH"]
