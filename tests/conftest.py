"""Shared fixtures: moto account, fake Lambda context, sample events, AWS call counter."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Fake credentials and a fixed region before anything creates a client.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "POWERTOOLS_METRICS_NAMESPACE": "Opskit",
        "POWERTOOLS_SERVICE_NAME": "opskit-tests",
        "POWERTOOLS_DEV": "false",
    }
)
for _name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_name, None)



def _only_the_standard_amis() -> None:
    """moto loads, in every region it touches, its standard AMIs and each region's "latest" and
    ECS-optimized ones (with their snapshots, listed by every DescribeSnapshots). Only the
    standard ones (moto's own list) are needed: pointing MOTO_AMIS_PATH at them makes each
    region's EC2 backend a fraction of the size, and the suite that much faster."""
    import json
    import tempfile

    from moto.utilities.utils import load_resource

    path = Path(tempfile.gettempdir()) / f"opskit-moto-amis-{os.getpid()}.json"
    path.write_text(json.dumps(load_resource("ec2/resources/amis.json")))
    os.environ["MOTO_AMIS_PATH"] = str(path)


_only_the_standard_amis()

import boto3  # noqa: E402
import botocore.handlers  # noqa: E402
import pytest  # noqa: E402
import time_machine  # noqa: E402
from moto import mock_aws  # noqa: E402

from opskit.observability import metrics  # noqa: E402
from tests.call_recorder import CallRecorder  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account


# The clock guard: OPSKIT_TEST_CLOCK_OFFSET_DAYS=N runs the suite as if today were N days later.
# A test that freezes the clock for a fixed date must then read everything it made under that
# clock under the same clock: one that reads it at "today" sees AWS state N days older (moto expires
# SQS messages, credentials, cooldowns...) and fails. `make test` runs the clock-sensitive tests
# a year and more ahead.
CLOCK_OFFSET_VARIABLE = "OPSKIT_TEST_CLOCK_OFFSET_DAYS"


def clock_offset_days() -> int:
    value = os.environ.get(CLOCK_OFFSET_VARIABLE, "0").strip() or "0"
    try:
        return int(value)
    except ValueError:
        raise pytest.UsageError(
            f"{CLOCK_OFFSET_VARIABLE}={value!r} is invalid: expected a number of days") from None


@pytest.fixture(autouse=True, scope="session")
def _clock_offset() -> Iterator[None]:
    days = clock_offset_days()
    if days == 0:
        yield
        return
    # Ticking, like the real clock; a test's own frozen travel nests inside and returns here.
    with time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True):
        yield


def load_event(name: str) -> dict[str, Any]:
    """Load `events/<automation>/<name>.json`."""
    return json.loads((EVENTS / name).read_text())


def seed_event(automation: str, event_stem: str) -> AbstractContextManager[Any]:
    """Create what a sample event refers to with `tests/<automation>/seed.py`, if the automation
    has one; returns what to enter around the handler (fakes, settings, an expected refusal)."""
    module = f"tests.{automation}.seed"
    if importlib.util.find_spec(module) is None:
        return nullcontext()
    around: AbstractContextManager[Any] | None = importlib.import_module(module).seed(event_stem)
    return around or nullcontext()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@dataclass
class FakeLambdaContext:
    function_name: str = "opskit-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:opskit-test"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/opskit-test"
    log_stream_name: str = "2026/11/23/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


class ApiCalls:
    """Counts AWS API calls per (service, operation) through a botocore `before-call` hook.

    Retries are not counted: `before-call` fires once per logical call.
    """

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def __call__(self, model: Any = None, **_: Any) -> None:
        self.counts[(model.service_model.service_name, model.name)] += 1

    def of(self, service: str, operation: str | None = None) -> int:
        return sum(n for (svc, op), n in self.counts.items()
                   if svc == service and (operation is None or op == operation))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def reset(self) -> None:
        self.counts.clear()


@pytest.fixture
def api_calls() -> Iterator[ApiCalls]:
    """Counts calls of every session created while the fixture is active."""
    spy = ApiCalls()
    handler = ("before-call.*.*", spy)
    botocore.handlers.BUILTIN_HANDLERS.append(handler)
    try:
        yield spy
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(handler)


@dataclass
class AlertInbox:
    """An SNS topic with an SQS queue subscribed (raw delivery), to read published reports."""

    topic_arn: str
    queue_url: str

    def received(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                       MessageAttributeNames=["All"])
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def make_alert_inbox() -> AlertInbox:
    """The topic and its subscribed queue, in whatever account the clients reach."""
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})
    return AlertInbox(topic, url)


@pytest.fixture
def alert_inbox(aws: None) -> AlertInbox:
    return make_alert_inbox()


@pytest.fixture(autouse=True)
def _clean_metrics() -> Iterator[None]:
    yield
    metrics.clear_metrics()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set environment variables for a test: env(DRY_RUN="false", ...)."""

    def setter(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)

    return setter


# Fixtures that stand in for AWS: a test using any of them (directly or through another fixture)
# is an integration test; every other test is a unit test of pure logic.
_INTEGRATION_FIXTURES = frozenset({"aws", "endpoint", "moto_server"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("integration") is not None:
            continue  # marked by the test itself (moto in a subprocess)
        fixtures = set(getattr(item, "fixturenames", ()))
        integration = bool(fixtures & _INTEGRATION_FIXTURES) or "artifact" in item.nodeid
        item.add_marker(pytest.mark.integration if integration else pytest.mark.unit)


@pytest.fixture(autouse=True)
def _unit_tests_never_reach_aws(request: pytest.FixtureRequest,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A test marked unit that sends an HTTP request to AWS is wrongly marked: it fails."""
    if request.node.get_closest_marker("unit") is None:
        return
    from botocore.httpsession import URLLib3Session

    def refuse(self: URLLib3Session, request: object) -> None:
        raise AssertionError("a unit test sent a request to AWS: use the aws fixture (moto)")

    monkeypatch.setattr(URLLib3Session, "send", refuse)


def pytest_report_header() -> str | None:
    days = clock_offset_days()
    return f"clock guard: the suite runs {days} days from today" if days else None


# Every AWS call an automation makes in the suite, attributed by the function package on its stack.
CALLS = CallRecorder()
botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build.*.*", CALLS))
botocore.handlers.BUILTIN_HANDLERS.append(("after-call.*.*", CallRecorder.answered))


@pytest.fixture(autouse=True)
def _only_permitted_calls() -> Iterator[None]:
    """Permissions are code: a call an automation makes that its permissions.py does not declare,
    a tag write its role would refuse for the keys it names, or a call its role would refuse
    on a resource with the tags it has at that moment, fails the test that made it."""
    from opskit.permissions import iam_actions
    from tests.iam_roles import (
        denied_on_resource,
        denied_tag_write,
        function_role,
        permissions_of,
    )

    start = len(CALLS.calls)
    yield
    problems = set()
    for call in CALLS.calls[start:]:
        if (call.service, call.operation) not in permissions_of(call.automation).operations():
            problems.add(f"{call.automation}: {call.service}.{call.operation} is not declared")
        if call.tags is not None:
            why = denied_tag_write(function_role(call.automation), *call.tags)
            if why is not None:
                problems.add(f"{call.automation}: {why}")
        for arn, tags in call.resources if call.succeeded else ():
            for action in iam_actions(call.service, call.operation):
                why = denied_on_resource(function_role(call.automation), action, arn, tags)
                if why is not None:
                    problems.add(f"{call.automation}: {why}")
    if problems:
        pytest.fail(f"calls IAM would refuse: {sorted(problems)}")


@pytest.fixture
def reports(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every report built during the test, published or not (skips alone are only logged)."""
    from opskit import runner

    built: list[dict[str, Any]] = []
    build = runner.build_report

    def spy(*args: Any, **kwargs: Any) -> Any:
        report = build(*args, **kwargs)
        built.append(report.to_dict())  # as published
        return report

    monkeypatch.setattr(runner, "build_report", spy)
    return built


@pytest.fixture(autouse=True)
def _a_new_container_per_test() -> Iterator[None]:
    """Sessions, clients and credentials live as long as a Lambda container: each test starts
    in a new one (tests of warm invocations invoke several times within the test)."""
    from opskit import aws

    aws.forget()
    yield
    aws.forget()


@pytest.fixture(autouse=True)
def webhook_posts_through_responses(request: pytest.FixtureRequest,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`responses` stands in for HTTP: the notifier posts through urllib3 (already loaded by
    botocore), so in tests its session sends the very same bytes through `requests`, where
    `responses` answers. Tests marked `webhook_transport` use the urllib3 transport itself
    (against a local server), as the built artifact's test does."""
    if request.node.get_closest_marker("webhook_transport"):
        return
    from slack_notifier.delivery import WebhookSession
    from tests.slack_notifier.helpers import post_through_requests

    monkeypatch.setattr(WebhookSession, "post", post_through_requests())
