"""Monthly running cost of the catalog, itemised: read from the templates, the code and measured
runs, priced with a dated table of us-east-1 list prices (free tier NOT applied).

What the templates say (parsed with tools/catalog.py's loader, their Conditions evaluated at the
parameters' defaults): which automations are deployed (Enable<X>), each function's memory, its
schedules (runs a month), its event triggers, the alarms, KMS keys, log groups and their
retention, buckets and queues, composed in the catalog and deployed alone. What the code says:
the custom metrics it can emit (opskit.observability and the notifier). What runs say: each
automation's sample event(s) run through its handler on moto, with 1,000 resources where the
automation scans resources (`measure()`, written to bench/cost_measured.json): the AWS calls,
the wall time, the log bytes at the default LOG_LEVEL and the metrics in the EMF output.

Billed duration is estimated as moto's wall time plus LATENCY_S per AWS call made one after
another: moto answers in-process with no network, so its wall time alone underestimates a real
run, while it also counts moto's own emulation, which real AWS does not bill to the function
(an overestimate of the CPU part). Everything else (event volumes, reports, failure rates) is an
assumption named in ASSUMPTIONS and printed with the tables.

`model()` is pure: the templates, the code's metric names, the measured file and the price table
in, the itemised costs out. `main()` measures, then prints the markdown section.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MEASURED = Path(__file__).resolve().parent / "cost_measured.json"
HOURS_PER_MONTH = 730.0  # AWS's monthly convention for prorated charges
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60
RESOURCES = 1000
LATENCY_S = 0.15  # one AWS call, as bench/api_economy.py extrapolates (conservative in-region)
TARGET_CATALOG_USD = 3.0
TARGET_AUTOMATION_USD = 1.0


# ---------------------------------------------------------------------------------- prices
@dataclass(frozen=True, slots=True)
class Price:
    usd: float
    unit: str
    source: str


PRICES_CHECKED = "2026-12-07"
PRICES_REGION = "us-east-1"
_LAMBDA = "https://aws.amazon.com/lambda/pricing/"
_CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/"
_KMS = "https://aws.amazon.com/kms/pricing/"
_SNS = "https://aws.amazon.com/sns/pricing/"
_SQS = "https://aws.amazon.com/sqs/pricing/"
_EVENTBRIDGE = "https://aws.amazon.com/eventbridge/pricing/"
_S3 = "https://aws.amazon.com/s3/pricing/"
_SECRETS = "https://aws.amazon.com/secrets-manager/pricing/"
PRICES: dict[str, Price] = {
    "lambda_gb_second_arm64": Price(0.0000133334, "GB-second (Arm, first 7.5 billion)", _LAMBDA),
    "lambda_request": Price(0.20 / 1e6, "request", _LAMBDA),
    "cloudwatch_metric_month": Price(0.30, "custom metric-month (first 10,000; prorated by the "
                                     "hour, metered only in hours it is sent)", _CLOUDWATCH),
    "cloudwatch_alarm_month": Price(0.10, "standard-resolution alarm metric-month",
                                    _CLOUDWATCH),
    "logs_ingestion_gb": Price(0.50, "GB ingested (Standard class; Lambda logs' first tier)",
                               _CLOUDWATCH),
    "logs_storage_gb_month": Price(0.03, "GB-month archived", _CLOUDWATCH),
    "put_metric_data_request": Price(0.01 / 1000, "PutMetricData request (not used: EMF)",
                                     _CLOUDWATCH),
    "kms_key_month": Price(1.00, "customer managed key-month", _KMS),
    "kms_request": Price(0.03 / 10_000, "request", _KMS),
    "sns_publish": Price(0.50 / 1e6, "publish (64 KB chunk); delivery to SQS free", _SNS),
    "sqs_request": Price(0.40 / 1e6, "standard queue request (64 KB chunk)", _SQS),
    "scheduler_invocation": Price(1.00 / 1e6, "EventBridge Scheduler invocation", _EVENTBRIDGE),
    "eventbridge_aws_event": Price(0.0, "AWS service event on the default bus (free)",
                                   _EVENTBRIDGE),
    "s3_storage_gb_month": Price(0.023, "S3 Standard GB-month (first 50 TB)", _S3),
    "s3_put_request": Price(0.005 / 1000, "PUT/COPY/POST/LIST request", _S3),
    "secret_month": Price(0.40, "secret-month", _SECRETS),
    "secret_api_call": Price(0.05 / 10_000, "API call", _SECRETS),
}


# ---------------------------------------------------------------------------------- assumptions
@dataclass(frozen=True, slots=True)
class Assumptions:
    """What neither the templates nor a run can tell: stated, and printed with the tables."""

    resources: int = RESOURCES  # of each kind an automation scans, in each account and region
    accounts: int = 1
    regions: int = 1
    dispatch: bool = False  # DispatchMode=sqs
    cold_start_metric: bool = False  # ColdStartMetric
    function_error_alarms: bool = False  # FunctionErrorAlarms
    # Events that invoke an automation, a month, per 1,000 resources (CloudTrail calls matched
    # by its rules, alarms entering ALARM, AWS events forwarded to the notifier).
    events_per_1000: Mapping[str, float] = field(default_factory=lambda: {
        "auto_tagger": 100.0,  # one resource in ten created a month
        "s3_public_remediation": 10.0,
        "sg_open_port_remediation": 20.0,
        "self_healing": 20.0,
        "slack_notifier": 30.0,  # pipeline, GuardDuty, Health... events forwarded
        "deploy_guard": 20.0,
    })
    # Scheduled runs that publish a report: a daily or rarer run always finds something at
    # 1,000 resources; a run every few minutes reports only when a schedule changes state.
    frequent_run_reports_per_day: float = 2.0
    failure_rate: float = 0.01  # share of runs emitting a failure metric
    # Lambda keeps an idle environment for minutes to hours (undocumented): a function run more
    # often than every COLD_AFTER_MIN minutes is assumed cold once every ENVIRONMENT_HOURS.
    cold_after_min: float = 15.0
    environment_hours: float = 2.0
    init_seconds: float = 1.0  # billed INIT phase of a cold start (layer and handler import)
    sqs_pollers: int = 5  # Lambda's long-polling connections per SQS event source when idle
    sqs_poll_seconds: float = 20.0
    log_stored_ratio: float = 1.0  # archived bytes / ingested bytes (no compression assumed)
    platform_log_bytes: int = 700  # START, END, REPORT (and INIT_START) lines per invocation
    kms_requests_per_invocation: float = 1.0  # a data key per log stream and report publish
    secret_reads_per_invocation: float = 1.0  # the notifier caches its webhook 5 min
    webhook_secret: bool = True  # the notifier's default reads a Secrets Manager secret


ASSUMPTIONS = Assumptions()


# ---------------------------------------------------------------------------------- templates
Template = dict[str, Any]


def _load(path: Path) -> Template:
    from tools.catalog import load_template

    return load_template(path, style="short")


def _value(value: Any, params: Mapping[str, str]) -> Any:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        name = value["Ref"]
        return params.get(name, f"<{name}>")
    return value


def evaluate(condition: Any, conditions: Mapping[str, Any], params: Mapping[str, str]) -> bool:
    """A CloudFormation condition (short-tag style) at `params`."""
    if isinstance(condition, dict) and len(condition) == 1:
        (function, args), = condition.items()
        if function == "Condition":
            return evaluate(conditions[args], conditions, params)
        if function == "Equals":
            left, right = (_value(arg, params) for arg in args)
            return str(left) == str(right)
        if function == "Not":
            return not evaluate(args[0], conditions, params)
        if function == "And":
            return all(evaluate(arg, conditions, params) for arg in args)
        if function == "Or":
            return any(evaluate(arg, conditions, params) for arg in args)
    raise ValueError(f"unsupported condition {condition!r}")


def _defaults(template: Template) -> dict[str, str]:
    return {name: str(p.get("Default", "")) for name, p in
            (template.get("Parameters") or {}).items()}


def runs_per_month(expression: str) -> float:
    """Runs a month of an EventBridge Scheduler expression: rate(...) or cron(...)."""
    rate = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if rate:
        every = int(rate.group(1)) * {"minute": 1, "hour": 60, "day": 1440}[
            rate.group(2).removesuffix("s")]
        return MINUTES_PER_MONTH / every
    cron = re.fullmatch(r"cron\((.+)\)", expression)
    if not cron:
        raise ValueError(f"unsupported schedule {expression!r}")
    minutes, hours, day_of_month, _month, day_of_week, *_ = cron.group(1).split()

    def count(field_: str, size: int) -> float:
        if field_ in {"*", "?"}:
            return size
        if "/" in field_:
            start, step = field_.split("/")
            return math.ceil((size - (0 if start in {"*", "0"} else int(start))) / int(step))
        total = 0
        for part in field_.split(","):
            if "-" in part:
                low, high = part.split("-")
                names = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
                a = names.index(low) if low in names else int(low)
                b = names.index(high) if high in names else int(high)
                total += b - a + 1
            else:
                total += 1
        return total

    per_day = count(minutes, 60) * count(hours, 24)
    if day_of_week not in {"*", "?"}:
        days = DAYS_PER_MONTH * count(day_of_week, 7) / 7
    elif day_of_month not in {"*", "?"}:
        days = count(day_of_month, 31) * DAYS_PER_MONTH / 31
    else:
        days = DAYS_PER_MONTH
    return per_day * days


@dataclass(frozen=True, slots=True)
class Function:
    logical_id: str
    memory_mb: int
    schedules: tuple[str, ...]  # their expressions at the defaults
    event_triggers: tuple[str, ...]  # EventBridgeRule, SQS, ... (what else invokes it)
    sqs_sources: int  # SQS event sources (each polled by Lambda)

    @property
    def scheduled_runs(self) -> float:
        return sum(runs_per_month(expression) for expression in self.schedules)


@dataclass(frozen=True, slots=True)
class Deployment:
    """What one automation's template creates, at the defaults."""

    functions: tuple[Function, ...]
    alarms: int
    keys: int
    log_retention_days: tuple[int, ...]
    buckets: int
    queues: int


@dataclass(frozen=True, slots=True)
class AutomationFacts:
    name: str
    enabled_by_default: bool
    composed: Deployment  # in the catalog (shared resources passed in)
    alone: Deployment  # its template deployed alone (its own key, topic, DLQ and alarm)
    dispatch: Deployment  # in the catalog with DispatchMode=sqs


@dataclass(frozen=True, slots=True)
class CatalogFacts:
    automations: tuple[AutomationFacts, ...]
    shared_alarms: int
    shared_keys: int


def _deployment(template: Template, params: Mapping[str, str]) -> Deployment:
    conditions = template.get("Conditions") or {}
    memory = int((template.get("Globals") or {}).get("Function", {}).get("MemorySize", 128))
    functions, alarms, keys, retention, buckets, queues = [], 0, 0, [], 0, 0
    for name, resource in (template.get("Resources") or {}).items():
        if "Condition" in resource and not evaluate({"Condition": resource["Condition"]},
                                                    conditions, params):
            continue
        kind, props = resource["Type"], resource.get("Properties") or {}
        if kind == "AWS::Serverless::Function":
            schedules, triggers, sqs = [], [], 0
            for event in (props.get("Events") or {}).values():
                if event["Type"] in {"ScheduleV2", "Schedule"}:
                    schedules.append(str(_value(event["Properties"]["ScheduleExpression"],
                                                params)))
                else:
                    triggers.append(event["Type"])
                    sqs += event["Type"] == "SQS"
            functions.append(Function(name, int(props.get("MemorySize", memory)),
                                      tuple(schedules), tuple(triggers), sqs))
        elif kind == "AWS::Scheduler::Schedule":
            raise ValueError(f"{name}: schedules are ScheduleV2 events of their function")
        elif kind == "AWS::CloudWatch::Alarm":
            metrics = props.get("Metrics")
            alarms += sum(1 for m in metrics if "MetricStat" in m) if metrics else 1
        elif kind == "AWS::KMS::Key":
            keys += 1
        elif kind == "AWS::Logs::LogGroup":
            retention.append(int(_value(props.get("RetentionInDays", 0), params) or 0))
        elif kind == "AWS::S3::Bucket":
            buckets += 1
        elif kind == "AWS::SQS::Queue":
            queues += 1
    # A work queue's mapping is an event source like the notifier's SQS event.
    mappings = sum(1 for name, r in (template.get("Resources") or {}).items()
                   if r["Type"] == "AWS::Lambda::EventSourceMapping"
                   and ("Condition" not in r or evaluate({"Condition": r["Condition"]},
                                                         conditions, params)))
    if mappings and functions:
        first = functions[0]
        functions[0] = replace(first, sqs_sources=first.sqs_sources + mappings)
    return Deployment(tuple(functions), alarms, keys, tuple(retention), buckets, queues)


def read_templates(overrides: Mapping[str, str] | None = None) -> CatalogFacts:
    """The catalog's facts at the defaults (and `overrides`), automations found in the root."""
    from tools.catalog import ROOT_TEMPLATE, applications

    root = _load(ROOT_TEMPLATE)
    root_params = {**_defaults(root), **(overrides or {})}
    root_conditions = root.get("Conditions") or {}
    shared = {name: r for name, r in root["Resources"].items()
              if r["Type"] != "AWS::Serverless::Application"
              and ("Condition" not in r or evaluate({"Condition": r["Condition"]},
                                                    root_conditions, root_params))}
    automations = []
    for application in applications(root).values():
        location = application["Properties"]["Location"]
        nested = _load(ROOT / location)
        enabled = evaluate({"Condition": application["Condition"]}, root_conditions, root_params)
        passed = {}
        for name, value in application["Properties"]["Parameters"].items():
            reference = value.get("Ref") if isinstance(value, dict) else None
            # A root parameter's value, or one of the root's resources (never empty).
            passed[name] = root_params.get(str(reference), "<passed>")
        composed = {**_defaults(nested), **passed}
        alone = {**_defaults(nested), **{k: v for k, v in (overrides or {}).items()
                                         if k in _defaults(nested)}}
        dispatch = {**composed, "DispatchMode": "sqs"}
        automations.append(AutomationFacts(
            Path(location).parent.name, enabled, _deployment(nested, composed),
            _deployment(nested, alone), _deployment(nested, dispatch)))
    return CatalogFacts(
        tuple(automations),
        sum(1 for r in shared.values() if r["Type"] == "AWS::CloudWatch::Alarm"),
        sum(1 for r in shared.values() if r["Type"] == "AWS::KMS::Key"))


# ---------------------------------------------------------------------------------- metrics
COLD_START_METRIC = "ColdStart"


def emitted_metrics(automation: str, cold_start: bool = False) -> tuple[str, ...]:
    """The custom metrics an automation's code can emit (one dimension set each)."""
    if automation == "slack_notifier":
        sys.path[:0] = [p for p in (str(ROOT / "functions"), str(ROOT / "shared_layer"))
                        if p not in sys.path]
        from slack_notifier.app import METRIC_NAMES as NOTIFIER_METRICS

        names: tuple[str, ...] = tuple(NOTIFIER_METRICS)
    else:
        sys.path[:0] = [p for p in (str(ROOT / "shared_layer"),) if p not in sys.path]
        from opskit.observability import METRIC_NAMES

        names = tuple(METRIC_NAMES)
    return names + ((COLD_START_METRIC,) if cold_start else ())


FAILURE_METRICS = frozenset({"ActionsFailed", "TargetsFailed", "NoticesFailed"})


# ---------------------------------------------------------------------------------- runs
@dataclass(frozen=True, slots=True)
class Run:
    """One measured invocation on moto."""

    event: str
    resources: int
    calls: int
    seconds: float
    log_bytes: int
    metrics: tuple[str, ...]

    @property
    def billed_seconds(self) -> float:
        return self.seconds + self.calls * LATENCY_S


def load_measured(path: Path = MEASURED) -> dict[str, dict[str, Run]]:
    """automation -> {"schedule" | "event": Run}, as `measure()` wrote them."""
    raw = json.loads(path.read_text())
    return {automation: {kind: Run(**{**run, "metrics": tuple(run["metrics"])})
                         for kind, run in runs.items()}
            for automation, runs in raw["runs"].items()}


# ---------------------------------------------------------------------------------- the model
@dataclass(frozen=True, slots=True)
class Item:
    service: str
    what: str
    quantity: float
    unit: str
    usd: float


@dataclass(frozen=True, slots=True)
class Bill:
    items: tuple[Item, ...]

    @property
    def total(self) -> float:
        return sum(item.usd for item in self.items)

    def by_service(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for item in self.items:
            out[item.service] = out.get(item.service, 0.0) + item.usd
        return out


def _price(name: str, quantity: float) -> float:
    return PRICES[name].usd * quantity


_DEFAULT_RUN = Run("(none measured: 1 s assumed)", 0, 0, 1.0, 2000, ())


def automation_bill(facts: AutomationFacts, runs: Mapping[str, Run],  # noqa: PLR0915
                    assumptions: Assumptions = ASSUMPTIONS, *, alone: bool = False) -> Bill:
    """One automation's monthly items: in the catalog (its share) or deployed alone."""
    a = assumptions
    deployment = facts.alone if alone else (facts.dispatch if a.dispatch else facts.composed)
    targets = a.accounts * a.regions
    scale = a.resources / 1000 * targets
    items: list[Item] = []
    invocations_total = 0.0
    publishes = 0.0
    for function in deployment.functions:
        scheduled = function.scheduled_runs
        events = a.events_per_1000.get(facts.name, 0.0) * scale if function.event_triggers else 0
        if facts.name == "slack_notifier":
            events = 0.0  # its invocations are the catalog's reports (catalog_bill adds them)
        schedule_run = runs.get("schedule", runs.get("event", _DEFAULT_RUN))
        event_run = runs.get("event", schedule_run)
        # A scheduled run works through every target (single mode: one invocation; dispatch
        # mode: one more invocation per target, each with its share).
        per_run_s = schedule_run.billed_seconds * (a.resources / max(schedule_run.resources, 1)
                                                   if schedule_run.resources else 1) * targets
        invocations = scheduled * (1 + (targets if a.dispatch and facts.dispatch.queues
                                        > facts.composed.queues else 0)) + events
        gb = function.memory_mb / 1024
        interval_min = MINUTES_PER_MONTH / invocations if invocations else math.inf
        cold = (HOURS_PER_MONTH / a.environment_hours if interval_min < a.cold_after_min
                else invocations)
        seconds = scheduled * per_run_s + events * event_run.billed_seconds
        items.append(Item("Lambda", f"{function.logical_id}: {function.memory_mb} MB, "
                          f"{invocations:,.0f} invocations, {cold:,.0f} cold starts",
                          (seconds + cold * a.init_seconds) * gb, "GB-s",
                          _price("lambda_gb_second_arm64",
                                 (seconds + cold * a.init_seconds) * gb)))
        items.append(Item("Lambda", f"{function.logical_id}: requests", invocations, "requests",
                          _price("lambda_request", invocations)))
        if scheduled:
            items.append(Item("EventBridge Scheduler", f"{function.logical_id}: "
                              f"{', '.join(function.schedules)}", scheduled, "invocations",
                              _price("scheduler_invocation", scheduled)))
        # A run every few minutes acts (and logs its actions) only when a schedule changes
        # state: its other runs read the same resources and log nothing but Lambda's lines.
        frequent = scheduled > DAYS_PER_MONTH * 4
        logging_runs = (min(scheduled, a.frequent_run_reports_per_day * DAYS_PER_MONTH)
                        if frequent else scheduled)
        log_bytes = (logging_runs * (schedule_run.log_bytes * (a.resources / max(
            schedule_run.resources, 1) if schedule_run.resources else 1) * targets)
            + events * event_run.log_bytes + invocations * a.platform_log_bytes)
        gb_logged = log_bytes / 1e9
        retention = (deployment.log_retention_days[0] if deployment.log_retention_days
                     else 3653)
        stored = gb_logged * a.log_stored_ratio * min(retention, 3653) / DAYS_PER_MONTH
        items.append(Item("CloudWatch Logs", f"{function.logical_id}: ingestion",
                          gb_logged, "GB", _price("logs_ingestion_gb", gb_logged)))
        items.append(Item("CloudWatch Logs", f"{function.logical_id}: storage at "
                          f"{retention} days' retention", stored, "GB-month",
                          _price("logs_storage_gb_month", stored)))
        # Reports: a daily or rarer run always reports, a frequent one when a schedule moves;
        # events report what they planned.
        if scheduled:
            publishes += logging_runs * targets
        publishes += events
        invocations_total += invocations
        for metric in emitted_metrics(facts.name, a.cold_start_metric):
            hours = min(HOURS_PER_MONTH, invocations)
            if metric == COLD_START_METRIC:
                hours = min(HOURS_PER_MONTH, cold)
            elif metric in FAILURE_METRICS:
                hours *= a.failure_rate
            elif facts.name != "slack_notifier":
                hours = min(HOURS_PER_MONTH, publishes)
            items.append(Item("CloudWatch metrics", f"{metric} (automation={facts.name}), "
                              f"sent in {hours:,.1f} hours", hours / HOURS_PER_MONTH,
                              "metric-months", _price("cloudwatch_metric_month",
                                                      hours / HOURS_PER_MONTH)))
        for _ in range(function.sqs_sources):
            polls = a.sqs_pollers * MINUTES_PER_MONTH * 60 / a.sqs_poll_seconds
            items.append(Item("SQS", f"{function.logical_id}: idle long polling by Lambda "
                              f"({a.sqs_pollers} pollers, {a.sqs_poll_seconds:.0f} s)", polls,
                              "requests", _price("sqs_request", polls)))
    if facts.name != "slack_notifier" and publishes:
        items.append(Item("SNS", "reports published to the alert topic", publishes, "publishes",
                          _price("sns_publish", publishes)))
    items.append(Item("CloudWatch alarms", f"{facts.name}: {deployment.alarms} alarm(s) "
                      "(its Errors; the notifier's failed notices; dispatch and alone: "
                      "dead letters)", deployment.alarms,
                      "alarm-months", _price("cloudwatch_alarm_month", deployment.alarms)))
    if deployment.keys:
        items.append(Item("KMS", f"{deployment.keys} customer managed key(s)", deployment.keys,
                          "key-months", _price("kms_key_month", deployment.keys)))
    kms_requests = (invocations_total + publishes) * a.kms_requests_per_invocation
    items.append(Item("KMS", "requests (log groups, encrypted topic)", kms_requests, "requests",
                      _price("kms_request", kms_requests)))
    if deployment.buckets:
        items.append(Item("S3", f"{deployment.buckets} export bucket(s): nothing exported in "
                          "dry-run (DryRun=true)", 0.0, "GB-month", 0.0))
    return Bill(tuple(items))


def _notifier_runs(facts: AutomationFacts, runs: Mapping[str, Run], reports: float,
                   a: Assumptions) -> Bill:
    """The notifier, invoked once per batch of reports (and forwarded AWS events)."""
    function = facts.composed.functions[0]
    run = runs.get("event", _DEFAULT_RUN)
    forwarded = a.events_per_1000.get(facts.name, 0.0) * a.resources / 1000 * a.accounts \
        * a.regions
    invocations = reports + forwarded
    gb = function.memory_mb / 1024
    seconds = invocations * (run.billed_seconds + a.init_seconds)  # rarely warm
    items = [
        Item("Lambda", f"{function.logical_id}: {invocations:,.0f} notices, each cold",
             seconds * gb, "GB-s", _price("lambda_gb_second_arm64", seconds * gb)),
        Item("Lambda", f"{function.logical_id}: requests", invocations, "requests",
             _price("lambda_request", invocations)),
        Item("SQS", "reports through the notifier's queue (send, receive, delete)",
             invocations * 3, "requests", _price("sqs_request", invocations * 3)),
        Item("SNS", "forwarded AWS events published to the alert topic", forwarded,
             "publishes", _price("sns_publish", forwarded)),
    ]
    logged = invocations * (run.log_bytes + a.platform_log_bytes) / 1e9
    items.append(Item("CloudWatch Logs", f"{function.logical_id}: ingestion", logged, "GB",
                      _price("logs_ingestion_gb", logged)))
    if a.webhook_secret:
        reads = invocations * a.secret_reads_per_invocation
        items += [Item("Secrets Manager", "the webhook secret (created by you; an SSM "
                       "SecureString parameter instead costs nothing)", 1, "secret-months",
                       _price("secret_month", 1)),
                  Item("Secrets Manager", "webhook reads", reads, "API calls",
                       _price("secret_api_call", reads))]
    return Bill(tuple(items))


def published_reports(bill: Bill) -> float:
    return sum(item.quantity for item in bill.items if item.service == "SNS")


@dataclass(frozen=True, slots=True)
class Costs:
    catalog: Bill
    automations: dict[str, Bill]  # each automation's share of the catalog (enabled or not)
    alone: dict[str, Bill]  # each automation deployed alone
    enabled: tuple[str, ...]


def model(facts: CatalogFacts, measured: Mapping[str, Mapping[str, Run]],
          assumptions: Assumptions = ASSUMPTIONS) -> Costs:
    """The catalog's monthly bill at the defaults, each automation's share, each alone."""
    a = assumptions
    shares: dict[str, Bill] = {}
    alone: dict[str, Bill] = {}
    notifier = next((f for f in facts.automations if f.name == "slack_notifier"), None)
    for automation in facts.automations:
        runs = measured.get(automation.name, {})
        shares[automation.name] = automation_bill(automation, runs, a)
        alone[automation.name] = automation_bill(automation, runs, a, alone=True)
    enabled = tuple(f.name for f in facts.automations if f.enabled_by_default)
    if notifier is not None:
        reports = sum(published_reports(shares[name]) for name in enabled
                      if name != notifier.name)
        extra = _notifier_runs(notifier, measured.get(notifier.name, {}), reports, a)
        shares[notifier.name] = Bill(shares[notifier.name].items + extra.items)
        own = _notifier_runs(notifier, measured.get(notifier.name, {}), 0.0, a)
        alone[notifier.name] = Bill(alone[notifier.name].items + own.items)
    shared = [Item("CloudWatch alarms", f"{facts.shared_alarms} shared alarm(s) (dead-letter "
                   "queue)", facts.shared_alarms, "alarm-months",
                   _price("cloudwatch_alarm_month", facts.shared_alarms)),
              Item("KMS", f"{facts.shared_keys} shared key(s) (alert topic, logs, exports)",
                   facts.shared_keys, "key-months",
                   _price("kms_key_month", facts.shared_keys))]
    items = tuple(shared) + tuple(item for name in enabled for item in shares[name].items)
    return Costs(Bill(items), shares, alone, enabled)


def template_overrides(assumptions: Assumptions) -> dict[str, str]:
    """The stack parameters the assumptions set (the others at their defaults)."""
    overrides: dict[str, str] = {}
    if assumptions.dispatch:
        overrides["DispatchMode"] = "sqs"
    if assumptions.function_error_alarms:
        overrides["FunctionErrorAlarms"] = "true"
    return overrides


def costs_at_defaults(assumptions: Assumptions = ASSUMPTIONS, path: Path = MEASURED) -> Costs:
    return model(read_templates(template_overrides(assumptions)), load_measured(path),
                 assumptions)


# ---------------------------------------------------------------------------------- measuring
def _samples() -> dict[str, list[tuple[str, str, Callable[[int], Any] | None]]]:
    """automation -> [(kind, event file, seeder of N resources or None)]."""
    from bench.api_economy import _seed_buckets, _seed_groups, _seed_volumes

    # The tests' seeds and samples (imported by name: the tests are no part of the typed code).
    make_instances = importlib.import_module("tests.instance_scheduler.seed").make_instances
    samples: dict[str, Any] = importlib.import_module("tests.lambda_env").SAMPLES

    def instances(n: int) -> None:
        make_instances(n)

    known: dict[str, list[tuple[str, str, Callable[[int], Any] | None]]] = {
        "instance_scheduler": [("schedule", "scheduler-run.json", instances)],
        "s3_public_remediation": [("schedule", "scheduled-sweep.json", _seed_buckets),
                                  ("event", "put-bucket-acl-public-read.json", None)],
        "sg_open_port_remediation": [("schedule", "scheduled-sweep.json", _seed_groups),
                                     ("event", "authorize-ssh-world.json", None)],
        "resource_cleanup": [("schedule", "daily-cleanup.json", _seed_volumes)],
        "auto_tagger": [("schedule", "scheduled-sweep.json", None),
                        ("event", "ec2-run-instances.json", None)],
        "rds_backup": [("schedule", "hourly-reconcile.json", None)],
        "access_key_auditor": [("schedule", "daily-audit.json", None)],
    }
    out = {}
    for folder in sorted((ROOT / "events").iterdir()):
        if not folder.is_dir():
            continue
        if folder.name in known:
            out[folder.name] = known[folder.name]
        elif folder.name in samples and samples[folder.name].refusal is None:
            out[folder.name] = [("event", samples[folder.name].event, None)]
        else:
            runnable = [p.name for p in sorted(folder.glob("*.json"))
                        if not p.stem.startswith(("invalid-", "skip-", "malformed-"))]
            if folder.name in samples and samples[folder.name].refusal is not None:
                runnable = [name for name in runnable if "timeline" in name or "daily" in name]
            out[folder.name] = [("event", name, None) for name in runnable[:1]]
    return out


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _logs_to(output: io.StringIO) -> Iterator[None]:
    """What the function would send to CloudWatch Logs goes to `output` meanwhile: every
    stream handler (Powertools' loggers write to the stdout of their creation), and the
    layer's child loggers, whose service logger on Lambda is the function's (here they may
    have been created under another service name, with no handler of their own)."""
    import logging

    loggers = [logging.getLogger(), *(item for item in logging.Logger.manager.loggerDict.values()
                                      if isinstance(item, logging.Logger))]
    handlers = [handler for logger in loggers for handler in logger.handlers
                if type(handler) is logging.StreamHandler]
    streams = [handler.setStream(output) for handler in handlers]
    orphans = [logger for logger in loggers if ".opskit." in logger.name
               and not logger.handlers and logger.parent is logging.getLogger()]
    extra = logging.StreamHandler(output)
    if handlers:
        extra.setFormatter(handlers[0].formatter)
    levels = [logger.level for logger in orphans]
    for logger in orphans:
        logger.addHandler(extra)
        logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
    try:
        yield
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            if stream is not None:
                handler.setStream(stream)
        for logger, level in zip(orphans, levels, strict=True):
            logger.removeHandler(extra)
            logger.setLevel(level)


def _metric_names(output: str) -> tuple[str, ...]:
    names: set[str] = set()
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        for directive in record["_aws"]["CloudWatchMetrics"]:
            names.update(m["Name"] for m in directive["Metrics"])
    return tuple(sorted(names))


def run_sample(automation: str, event_file: str, seeder: Callable[[int], Any] | None,
               n: int, env: Mapping[str, str] | None = None) -> Run:
    """One sample event through its handler on moto (the tests' seed, plus `n` resources),
    dry-run, at the default LOG_LEVEL: calls, wall time, log bytes, metrics in the EMF."""
    import botocore.handlers
    from moto import mock_aws

    harness = importlib.import_module("tests.conftest")  # the tests' context, events, seeds

    counted = [0]

    def count(**_: Any) -> None:
        counted[0] += 1

    values = {"DRY_RUN": "true", "POWERTOOLS_SERVICE_NAME": automation, "LOG_LEVEL": "INFO",
              "POWERTOOLS_METRICS_DISABLED": "false", **(env or {})}
    with _environment(values), mock_aws(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(io.StringIO()):
            around = harness.seed_event(automation, Path(event_file).stem)
            if seeder is not None:
                seeder(n)
        handler = importlib.import_module(f"{automation}.app").lambda_handler
        from opskit import aws
        from opskit.observability import metrics

        aws.forget()
        metrics.clear_metrics()
        event = harness.load_event(f"{automation}/{event_file}")
        entry = ("before-call.*.*", count)
        botocore.handlers.BUILTIN_HANDLERS.append(entry)
        output = io.StringIO()
        try:
            with around, _logs_to(output), contextlib.redirect_stdout(output):
                start = time.perf_counter()
                handler(event, harness.FakeLambdaContext())
                seconds = time.perf_counter() - start
        finally:
            botocore.handlers.BUILTIN_HANDLERS.remove(entry)
            metrics.clear_metrics()
    text = output.getvalue()
    return Run(event_file, n if seeder is not None else 0, counted[0], round(seconds, 4),
               len(text.encode()), _metric_names(text))


def measure(n: int = RESOURCES, path: Path = MEASURED) -> None:
    """Run every automation's samples and write what they measured to `path`."""
    for folder in ("shared_layer", "functions"):
        if str(ROOT / folder) not in sys.path:
            sys.path.insert(0, str(ROOT / folder))
    importlib.import_module("tests.conftest")  # the tests' environment: fake credentials

    runs: dict[str, dict[str, Any]] = {}
    for automation, samples in _samples().items():
        for kind, event_file, seeder in samples:
            run = run_sample(automation, event_file, seeder, n)
            runs.setdefault(automation, {})[kind] = {
                "event": run.event, "resources": run.resources, "calls": run.calls,
                "seconds": run.seconds, "log_bytes": run.log_bytes, "metrics": list(run.metrics)}
    path.write_text(json.dumps({"resources": n, "latency_s": LATENCY_S, "runs": runs},
                               indent=1, sort_keys=True) + "\n")


# ---------------------------------------------------------------------------------- report
def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.005 or value == 0 else f"${value:,.4f}"


def _quantity(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.3g}"


def itemised(bill: Bill) -> list[str]:
    rows = ["| Service | Item | Quantity | Cost a month |", "|---|---|---|---|"]
    for item in sorted(bill.items, key=lambda i: (-i.usd, i.service, i.what)):
        rows.append(f"| {item.service} | {item.what} | {_quantity(item.quantity)} {item.unit} "
                    f"| {_usd(item.usd)} |")
    rows.append(f"| **Total** | | | **{_usd(bill.total)}** |")
    return rows


def docs_line(costs: Costs, automation: str) -> str:
    """What an automation's docs page states of its cost (tests compare the page to this)."""
    share, alone = costs.automations[automation].total, costs.alone[automation].total
    return (f"At the defaults, with {RESOURCES:,} resources in one account and region: "
            f"**{_usd(share)} a month** in the catalog (its function, schedules, logs, metrics "
            f"and alarms), **{_usd(alone)} a month** deployed alone (with its own alert key "
            f"and dead-letter alarm). Itemised in `bench/results.md` (section Running cost).")


def readme_line(costs: Costs) -> str:
    return (f"At the defaults, with {RESOURCES:,} resources in one account and region, the "
            f"catalog costs **{_usd(costs.catalog.total)} a month** to run (us-east-1 list "
            f"prices of {PRICES_CHECKED}, free tier not applied), itemised in "
            f"`bench/results.md` (section Running cost).")


def report(costs: Costs, measured: Mapping[str, Mapping[str, Run]]) -> str:
    a = ASSUMPTIONS
    lines = ["## Running cost", "",
             f"The catalog at its defaults in one account and region with {a.resources:,} "
             f"resources, priced at {PRICES_REGION} list prices checked on {PRICES_CHECKED} "
             "(free tier NOT applied). Resources, alarms, keys, schedules and memory are read "
             "from the templates at their defaults; durations, log bytes and metrics from each "
             "automation's sample event run on moto (below).", "",
             f"### The catalog: {_usd(costs.catalog.total)} a month (target "
             f"{_usd(TARGET_CATALOG_USD)}: "
             f"{'met' if costs.catalog.total <= TARGET_CATALOG_USD else 'NOT met'})", "",
             f"Deployed at the defaults: {', '.join(costs.enabled)}.", "",
             "| Service | Cost a month |", "|---|---|"]
    for service, usd in sorted(costs.catalog.by_service().items(), key=lambda kv: -kv[1]):
        lines.append(f"| {service} | {_usd(usd)} |")
    lines += ["", *itemised(costs.catalog), "",
              "### Each automation", "",
              f"Its share in the catalog (target {_usd(TARGET_AUTOMATION_USD)}) and deployed "
              "alone, where it creates its own alert key ($1.00 of it), topic, dead-letter "
              "queue and alarm (pass `AlertTopicArn`, `AlertKeyArn` and `DeadLetterQueueArn` "
              "to share existing ones).", "",
              "| Automation | Default | In the catalog | Target | Alone | Largest item |",
              "|---|---|---|---|---|---|"]
    for name, bill in costs.automations.items():
        top = max(bill.items, key=lambda i: i.usd)
        lines.append(f"| {name} | {'on' if name in costs.enabled else 'off'} | "
                     f"{_usd(bill.total)} | "
                     f"{'met' if bill.total <= TARGET_AUTOMATION_USD else 'NOT met'} | "
                     f"{_usd(costs.alone[name].total)} | {top.service}: {top.what} "
                     f"({_usd(top.usd)}) |")
    lines += ["", "### Scaling", ""]
    base = costs.catalog.total
    for label, variant in [
        ("10,000 resources", replace(a, resources=10 * a.resources)),
        ("2 regions", replace(a, regions=2)),
        ("10 accounts x 2 regions", replace(a, accounts=10, regions=2)),
        ("DispatchMode=sqs", replace(a, dispatch=True)),
        ("DispatchMode=sqs, 10 accounts x 2 regions", replace(a, dispatch=True, accounts=10,
                                                              regions=2)),
        ("ColdStartMetric=true", replace(a, cold_start_metric=True)),
        ("FunctionErrorAlarms=true", replace(a, function_error_alarms=True)),
    ]:
        other = model(read_templates(template_overrides(variant)), measured,
                      variant).catalog.total
        lines.append(f"- {label}: {_usd(other)} a month ({_usd(other - base)} more).")
    lines += [
        "- Per resource: Lambda time and log bytes of the sweeps grow linearly with the "
        "resources scanned (moto time and calls scaled from the measured N), as do the event "
        "volumes assumed per 1,000 resources; alarms, keys, metrics and schedules do not.",
        "- Per extra account or region (single mode): one invocation works through every "
        "target, so duration, logs and reports grow with the targets, and nothing else; the "
        "stack stays in one account and region.",
        "- Dispatch mode adds, per dispatching automation, a work queue and its dead-letter "
        "queue, a dead-letter alarm ($0.10) and an SQS event source whose idle long polling "
        "Lambda pays as SQS requests, plus one invocation per target and run.",
        "- S3 exports (rds_backup with DryRun=false): "
        f"{_usd(PRICES['s3_storage_gb_month'].usd)} per GB-month of Parquet kept "
        "(BackupRetentionDays), plus RDS's own export charge per GB of snapshot.",
        "",
        "### Measured runs", "",
        f"Billed seconds = moto wall time + {LATENCY_S} s per AWS call. moto answers "
        "in-process without a network, which that latency stands for; its wall time also "
        "counts moto's own emulation, which AWS would not bill: the estimate is meant as an "
        "upper bound, not a prediction. Sweeps scale linearly from the N measured.", "",
        "| Automation | Run | Event | N | AWS calls | moto s | Billed s (est.) | Log bytes | "
        "Metrics in the EMF |", "|---|---|---|---|---|---|---|---|---|"]
    for name, runs in measured.items():
        for kind, run in runs.items():
            lines.append(f"| {name} | {kind} | {run.event} | {run.resources or '-'} | "
                         f"{run.calls} | {run.seconds:.2f} | {run.billed_seconds:.2f} | "
                         f"{run.log_bytes:,} | {', '.join(run.metrics) or '-'} |")
    lines += ["", "### Assumptions", ""]
    for name, value in ((f.name, getattr(a, f.name)) for f in fields(a)):
        shown = dict(value) if isinstance(value, Mapping) else value
        lines.append(f"- `{name}`: {shown}")
    lines += ["", f"### Prices ({PRICES_REGION}, checked {PRICES_CHECKED}, free tier not "
              "applied)", "", "| Item | USD | Unit | Source |", "|---|---|---|---|"]
    for name, price in PRICES.items():
        lines.append(f"| {name} | {price.usd:.10g} | {price.unit} | {price.source} |")
    return "\n".join(lines)


def main() -> str:
    from bench._summary import record

    measure()
    measured = load_measured()
    costs = model(read_templates(), measured)
    highest = max(costs.automations.items(), key=lambda kv: kv[1].total)
    record("Running cost: the catalog at defaults, 1,000 resources, one account and region",
           f"{_usd(costs.catalog.total)} a month, itemised", f"{_usd(TARGET_CATALOG_USD)}")
    record("Running cost: the costliest automation in the catalog "
           f"({highest[0]})", f"{_usd(highest[1].total)} a month",
           f"{_usd(TARGET_AUTOMATION_USD)} each")
    write_docs(costs)
    return report(costs, measured)


# ---------------------------------------------------------------------------------- docs
DOCS = ROOT / "docs"
README = ROOT / "README.md"
COST_START = "<!-- cost:start (written by make bench: bench/cost_model.py) -->"
COST_END = "<!-- cost:end -->"


def docs_page(automation: str, readme: str) -> Path | None:
    """The automation's docs page: docs/<automation>.md, or the one its catalog row links."""
    own = DOCS / f"{automation}.md"
    if own.is_file():
        return own
    row = next((line for line in readme.splitlines()
                if line.startswith(f"| **{automation}** |")), "")
    link = re.search(r"\(docs/([\w-]+\.md)\)", row)
    return DOCS / link.group(1) if link else None


def with_cost_block(text: str, block: str) -> str:
    """`text` with its cost block replaced by `block` (a Cost section added at the end if
    the page has none)."""
    pattern = re.compile(re.escape(COST_START) + r".*?" + re.escape(COST_END), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: f"{COST_START}\n{block}\n{COST_END}", text)
    return text.rstrip("\n") + f"\n\n## Cost\n\n{COST_START}\n{block}\n{COST_END}\n"


def cost_blocks(costs: Costs) -> dict[Path, str]:
    """Every page's cost block as the model gives it: the README's and each docs page's."""
    readme = README.read_text()
    pages: dict[Path, list[str]] = {}
    for automation in costs.automations:
        page = docs_page(automation, readme)
        if page is not None:
            pages.setdefault(page, []).append(
                f"`{automation}`: {docs_line(costs, automation)}"
                if docs_page(automation, readme) != DOCS / f"{automation}.md"
                or len([a for a in costs.automations if docs_page(a, readme) == page]) > 1
                else docs_line(costs, automation))
    blocks = {page: "\n\n".join(lines) for page, lines in pages.items()}
    blocks[README] = readme_line(costs)
    return blocks


def write_docs(costs: Costs) -> list[Path]:
    """Write the cost blocks; the pages changed."""
    changed = []
    for page, block in cost_blocks(costs).items():
        text = page.read_text()
        new = with_cost_block(text, block)
        if new != text:
            page.write_text(new)
            changed.append(page)
    return changed
