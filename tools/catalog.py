"""The catalog as one template: the root's shared resources and every automation's resources,
as CloudFormation deploys them together.

Each automation's template (`functions/<automation>/template.yaml`) references the shared
resources as `!If [OwnAlerts, !Ref AlertTopic, !Ref AlertTopicArn]`: its own when deployed
alone, the root's when composed. In the catalog the root's are passed in, so this view resolves
those references to the root's resources (`!Ref AlertTopic`), leaves out what an automation's
template creates only when deployed alone, and puts each automation's resources under its
`Enable<X>` condition, as the root's `AWS::Serverless::Application` does. The member role, the
permission checks and the template tests read the catalog through this view.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
ROOT_TEMPLATE = ROOT / "template.yaml"
# The conditions under which an automation's template creates the shared resources itself.
OWN_CONDITIONS = frozenset({"OwnLayer", "OwnAlerts", "OwnDeadLetters", "OwnAlertsWithEmail",
                            "OwnName"})
# Parameters the root fills with one of its resources, and the resource they stand for.
PASSED = {"LayerArn": ("Ref", "OpskitLayer"), "AlertTopicArn": ("Ref", "AlertTopic"),
          "AlertKeyArn": ("GetAtt", "AlertKey.Arn"),
          "DeadLetterQueueArn": ("GetAtt", "DeadLetterQueue.Arn"),
          "RotationFunctionArn": ("GetAtt", "AccessKeyRotationFunction.Arn"),
          "CatalogStackName": ("Ref", "AWS::StackName")}
# Conditions an automation's template defines in its own terms; the catalog has the root's.
ROOT_WINS = frozenset({"AccessKeyRotationEnabled", "HasAlertEmail"})


class _LongLoader(yaml.SafeLoader):
    """CloudFormation's short tags in their long form: !Sub x -> {"Fn::Sub": x}."""


class _ShortLoader(yaml.SafeLoader):
    """CloudFormation's short tags by their own name: !Sub x -> {"Sub": x}."""


def _tag(style: str, loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {_function(style, suffix): value}


_LongLoader.add_multi_constructor("!", partial(_tag, "long"))
_ShortLoader.add_multi_constructor("!", partial(_tag, "short"))


def load_template(path: Path, style: str = "long") -> dict[str, Any]:
    """One template file, its short tags read in `style` ("long": Fn::Sub, "short": Sub)."""
    loader = _LongLoader if style == "long" else _ShortLoader
    return dict(yaml.load(path.read_text(), Loader=loader))  # noqa: S506 - a SafeLoader


def _function(style: str, name: str) -> str:
    """`If` in the short-tag style of some loaders, `Fn::If` in CloudFormation's long form."""
    return name if style == "short" or name == "Ref" else f"Fn::{name}"


def _resolve(value: Any, style: str) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            (key, item), = value.items()
            if key == _function(style, "If") and isinstance(item, list) and item[:1] and \
                    item[0] in OWN_CONDITIONS:
                return _resolve(item[1], style)  # the root's resource, as passed in
            if key == "Ref" and item in PASSED:
                function, target = PASSED[item]
                return {_function(style, function): target}
        return {key: _resolve(item, style) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, style) for item in value]
    return value


def _renamed(value: Any, renamed: dict[str, str], style: str) -> Any:
    """`value` with its references to the conditions in `renamed` (!Condition, !If) renamed."""
    if not renamed:
        return value
    if isinstance(value, dict):
        if len(value) == 1:
            (key, item), = value.items()
            if key == "Condition" and isinstance(item, str):
                return {key: renamed.get(item, item)}
            if key == _function(style, "If") and isinstance(item, list) and item[:1]:
                return {key: [renamed.get(item[0], item[0]),
                              *(_renamed(i, renamed, style) for i in item[1:])]}
        return {key: _renamed(item, renamed, style) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, renamed, style) for item in value]
    return value


def applications(root: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The root's automations: logical id -> its AWS::Serverless::Application."""
    return {name: resource for name, resource in root["Resources"].items()
            if resource["Type"] == "AWS::Serverless::Application"}


def catalog(load: Callable[[Path], dict[str, Any]], style: str = "long") -> dict[str, Any]:
    """The root template with every automation's template merged in (`load` reads one file)."""
    root = load(ROOT_TEMPLATE)
    merged: dict[str, Any] = {section: dict(root.get(section) or {}) for section in
                              ("Parameters", "Conditions", "Resources", "Outputs")}
    merged["Metadata"] = root.get("Metadata", {})
    nested_templates = {name: load(ROOT / application["Properties"]["Location"])
                        for name, application in applications(root).items()}
    # A condition several automations' templates define (ErrorsAlarm) is each one's own in the
    # catalog: <Application><Condition>, under that automation's Enable<X> condition.
    defined: dict[str, int] = {}
    for nested in nested_templates.values():
        for name in nested.get("Conditions") or {}:
            defined[name] = defined.get(name, 0) + 1
    for application_name, nested in nested_templates.items():
        enabled = root["Resources"][application_name]["Condition"]
        renamed = {name: f"{application_name}{name}" for name in nested.get("Conditions") or {}
                   if defined[name] > 1 and name not in OWN_CONDITIONS | ROOT_WINS}
        for name, parameter in nested.get("Parameters", {}).items():
            if name not in PASSED:
                merged["Parameters"].setdefault(name, parameter)
        for name, condition in nested.get("Conditions", {}).items():
            if name not in OWN_CONDITIONS and name not in ROOT_WINS:
                # Composed, the automation's template exists only while it is enabled.
                merged["Conditions"][renamed.get(name, name)] = {_function(style, "And"): [
                    {"Condition": enabled}, _renamed(_resolve(condition, style), renamed,
                                                     style)]}
        for name, resource in nested["Resources"].items():
            if resource.get("Condition") in OWN_CONDITIONS:
                continue  # created only when the automation is deployed alone
            resolved = _renamed(_resolve(resource, style), renamed, style)
            if "Condition" in resolved:
                resolved["Condition"] = renamed.get(resolved["Condition"], resolved["Condition"])
            resolved.setdefault("Condition", enabled)
            merged["Resources"][name] = resolved
        merged.setdefault("Globals", _resolve(nested.get("Globals", {}), style))
    return merged
