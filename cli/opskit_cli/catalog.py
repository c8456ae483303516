"""The automations of this repository: their folders, handlers, permissions and the Lambda
environment their template gives them (parameter defaults resolved as CloudFormation would)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

# The CLI runs the automations from the repository (an editable install): their templates and
# sample events are files beside the code, never shipped in the layer.
ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
EVENTS = ROOT / "events"
# What the Lambda console gives a function with no Timeout of its own (SAM's default).
DEFAULT_TIMEOUT_SECONDS = 3
LambdaHandler = Callable[[Any, Any], dict[str, Any]]


class CatalogError(ValueError):
    """An automation or template the CLI cannot use; the message names the file or value."""


def automations() -> list[str]:
    """Every automation: a folder of functions/ with a handler and its own template."""
    if not FUNCTIONS.is_dir():
        return []
    return sorted(folder.name for folder in FUNCTIONS.iterdir()
                  if (folder / "app.py").is_file() and (folder / "template.yaml").is_file())


def handler_of(automation: str) -> LambdaHandler:
    """The automation's `lambda_handler` (importing it reads no configuration)."""
    module = importlib.import_module(f"{automation}.app")
    handler: LambdaHandler = module.lambda_handler
    return handler


def triggers_of(handler: object) -> frozenset[str]:
    """What may invoke a handler built with opskit.handler.automation (its `Trigger` values)."""
    found = getattr(handler, "opskit_triggers", None)
    while found is None and hasattr(handler, "__wrapped__"):
        handler = handler.__wrapped__
        found = getattr(handler, "opskit_triggers", None)
    return frozenset(str(trigger) for trigger in found or ())


def _tagged(loader: Any, suffix: str, node: Any) -> dict[str, Any]:
    """A CloudFormation short form (`!Ref X`, `!If [...]`) as its long form."""
    import yaml  # noqa: PLC0415 - a development dependency, only needed here

    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


@cache
def read_template(automation: str) -> dict[str, Any]:
    try:
        import yaml  # noqa: PLC0415 - a development dependency, only needed here
    except ImportError:
        raise CatalogError("reading templates needs PyYAML: pip install -e '.[dev]'") from None

    class TemplateLoader(yaml.SafeLoader):
        """YAML with CloudFormation's tags."""

    TemplateLoader.add_multi_constructor("!", _tagged)
    path = FUNCTIONS / automation / "template.yaml"
    try:
        template = yaml.load(path.read_text(), Loader=TemplateLoader)  # noqa: S506 - safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: {exc}") from None
    if not isinstance(template, dict):
        raise CatalogError(f"{path}: not a template")
    return template


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class FunctionSpec:
    """What an automation's template says of its function, with parameters resolved."""

    automation: str
    parameters: Mapping[str, str]  # name -> value (defaults, then the overrides)
    environment: Mapping[str, str | None]  # None: declared, but a stack resource (none locally)
    timeout_seconds: int
    memory_mb: int


class _Resolver:
    """Evaluates the intrinsic functions a function's environment uses, with parameters only:
    a reference to a stack resource resolves to None (it does not exist outside the stack)."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str],
                 region: str) -> None:
        self.conditions: Mapping[str, Any] = template.get("Conditions") or {}
        self.parameters = parameters
        self.region = region

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise CatalogError(f"condition {name!r} is not defined")
        return self.truth(self.conditions[name])

    def truth(self, node: Any) -> bool:
        if isinstance(node, dict) and len(node) == 1:
            ((function, args),) = node.items()
            if function == "Fn::Equals":
                left, right = (self.value(arg) for arg in args)
                return left is not None and left == right
            if function == "Fn::Not":
                return not self.truth(args[0])
            if function == "Fn::And":
                return all(self.truth(arg) for arg in args)
            if function == "Fn::Or":
                return any(self.truth(arg) for arg in args)
            if function in ("Condition", "Fn::Condition"):
                return self.condition(args)
        raise CatalogError(f"cannot evaluate condition {node!r}")

    def value(self, node: Any) -> str | None:
        if isinstance(node, str | int | float | bool):
            return _text(node)
        if not isinstance(node, dict) or len(node) != 1:
            return None
        ((function, args),) = node.items()
        if function == "Ref":
            if args == "AWS::Region":
                return self.region
            return self.parameters.get(args)  # a resource: None
        if function == "Fn::If":
            name, when_true, when_false = args
            return self.value(when_true if self.condition(name) else when_false)
        if function == "Fn::Sub" and isinstance(args, str):
            text = args
            for name, value in {**self.parameters, "AWS::Region": self.region}.items():
                text = text.replace("${" + name + "}", value)
            return None if "${" in text else text
        return None


def function_spec(automation: str, *, region: str,
                  overrides: Mapping[str, str] | None = None) -> FunctionSpec:
    """The function of `automation` as its template deploys it with the parameters' defaults;
    `overrides` replace template parameters (`DryRun`) or set variables (`DRY_RUN`)."""
    template = read_template(automation)
    declared: Mapping[str, Any] = template.get("Parameters") or {}
    parameters = {name: _text(spec.get("Default", "")) for name, spec in declared.items()}
    variables: dict[str, str] = {}
    for name, value in (overrides or {}).items():
        if name in parameters:
            parameters[name] = value
        else:
            variables[name] = value
    function = _function_resource(template, automation)
    globals_: Mapping[str, Any] = (template.get("Globals") or {}).get("Function") or {}
    resolver = _Resolver(template, parameters, region)
    raw_env = {**((globals_.get("Environment") or {}).get("Variables") or {}),
               **((function.get("Environment") or {}).get("Variables") or {})}
    environment: dict[str, str | None] = {name: resolver.value(node)
                                          for name, node in raw_env.items()}
    unknown = sorted(set(variables) - set(environment))
    if unknown:
        raise CatalogError(f"{unknown[0]} is neither a parameter of {automation}'s template nor "
                           f"a variable of its function (parameters: "
                           f"{', '.join(sorted(parameters))})")
    environment.update(variables)
    timeout = resolver.value(function.get("Timeout", globals_.get("Timeout")))
    memory = resolver.value(function.get("MemorySize", globals_.get("MemorySize")))
    return FunctionSpec(automation, parameters, environment,
                        int(timeout) if timeout else DEFAULT_TIMEOUT_SECONDS,
                        int(memory) if memory else 128)


def _function_resource(template: Mapping[str, Any], automation: str) -> Mapping[str, Any]:
    handler = f"{automation}.app.lambda_handler"
    for resource in (template.get("Resources") or {}).values():
        properties = resource.get("Properties") or {}
        if (resource.get("Type") == "AWS::Serverless::Function"
                and properties.get("Handler") == handler):
            found: Mapping[str, Any] = properties
            return found
    raise CatalogError(f"functions/{automation}/template.yaml has no function with handler "
                       f"{handler}")


def permissions_of(automation: str) -> Any:
    """The automation's PERMISSIONS (an opskit.permissions.Permissions)."""
    return importlib.import_module(f"{automation}.permissions").PERMISSIONS
