"""One bad record never blocks the batch; dead webhooks fail the invocation; time is budgeted."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import responses

from slack_notifier import app, grouping
from slack_notifier.delivery import ATTEMPT_SECONDS
from tests.conftest import FakeLambdaContext
from tests.slack_notifier.helpers import (
    ALARM,
    DEFAULT_URL,
    GUARDDUTY,
    SECURITY_URL,
    create_webhook_secret,
    sent,
    sns_envelope,
    sqs_event,
)

pytestmark = pytest.mark.usefixtures("notifier_env")

# 200 KB of nesting: json.loads raises RecursionError on it.
NESTED = "[" * 100_000 + "]" * 100_000


def titles() -> list[str]:
    return [payload["attachments"][0]["blocks"][0]["text"]["text"] for _, payload in sent()]


def test_a_deeply_nested_body_is_shown_as_text_and_the_alarm_beside_it_is_posted(
        lambda_context: FakeLambdaContext) -> None:
    create_webhook_secret()
    event = sqs_event(NESTED, sns_envelope(NESTED, "deep"), sns_envelope(ALARM))
    assert app.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    assert titles() == [":information_source: Message", ":information_source: deep",
                        ":red_circle: ALARM: orders-api-5xx"]
    text = sent()[0][1]["attachments"][0]["blocks"][1]["text"]["text"]
    assert text.startswith("[[[[")
    assert text.endswith("…")
    assert len(text) == 3000


def test_an_integer_past_the_digit_limit_is_text_too(lambda_context: FakeLambdaContext) -> None:
    create_webhook_secret()
    result = app.lambda_handler(sqs_event(sns_envelope("9" * 5000)), lambda_context)
    assert result == {"batchItemFailures": []}
    assert titles() == [":information_source: Message"]


def report(account: str, counts: Any, targets: Any = 2) -> str:
    return sns_envelope({"schema": "opskit.report/1", "automation": "instance_scheduler",
                         "account": account, "region": "eu-west-1", "dry_run": False,
                         "severity": "info", "title": f"Stopped EC2 in {account}",
                         "counts": counts, "actions": [],
                         "dispatch": {"run_id": "run-7", "targets": targets}})


def test_a_malformed_dispatched_report_neither_blocks_nor_reposts(
        lambda_context: FakeLambdaContext) -> None:
    """Counts that are not numbers used to raise while merging, after the alarm before them
    was posted: the batch failed and SQS posted the alarm again."""
    create_webhook_secret()
    event = sqs_event(sns_envelope(ALARM), report("111111111111", {"done": "lots"}, "x"),
                      report("222222222222", {"done": 2}))
    assert app.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    assert titles() == [":red_circle: ALARM: orders-api-5xx",
                        ":information_source: instance_scheduler: 2 of 2 targets reported "
                        "(2 done)"]


def test_reports_that_cannot_be_merged_are_sent_one_by_one(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: object) -> None:
        raise ZeroDivisionError

    monkeypatch.setattr(app, "merge", broken)
    create_webhook_secret()
    event = sqs_event(report("111111111111", {"done": 1}), report("222222222222", {"done": 2}))
    assert app.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    assert titles() == [":information_source: Stopped EC2 in 111111111111",
                        ":information_source: Stopped EC2 in 222222222222"]
    assert grouping.merge is not broken


@pytest.mark.parametrize(("status", "body"), [(404, "no_service"), (403, "invalid_token"),
                                              (410, "channel_is_archived")])
def test_a_dead_webhook_fails_the_invocation_after_one_request(
        status: int, body: str, lambda_context: FakeLambdaContext) -> None:
    """Every record failing used to be returned as batch failures of a successful invocation:
    the Errors alarm never saw a dead webhook. Now the invocation fails, and the webhook is
    asked once, not once a record."""
    create_webhook_secret()
    responses.replace(responses.POST, DEFAULT_URL, status=status, body=body)
    event = sqs_event(*(sns_envelope(ALARM | {"AlarmName": f"alarm-{n}"}) for n in range(3)))
    with pytest.raises(app.DeliveryFailedError) as info:
        app.lambda_handler(event, lambda_context)
    assert str(info.value) == (
        f"none of the 3 record(s) could be delivered, first: webhook 'default' refused the "
        f"message: HTTP {status}: {body}; SQS will retry them")
    assert len(sent()) == 1


def test_a_slack_outage_fails_the_invocation_once_retries_are_spent(
        lambda_context: FakeLambdaContext) -> None:
    create_webhook_secret()
    responses.replace(responses.POST, DEFAULT_URL, status=503, body="service unavailable")
    event = sqs_event(sns_envelope(ALARM), sns_envelope("hello"))
    with pytest.raises(app.DeliveryFailedError, match="failed after 5 attempt"):
        app.lambda_handler(event, lambda_context)
    assert len(sent()) == 5  # the second notice is not tried against the same outage


def test_a_bad_payload_for_one_message_does_not_stop_the_others(
        lambda_context: FakeLambdaContext) -> None:
    """A 400 concerns that one message: the next one is still posted."""
    create_webhook_secret()
    responses.replace(responses.POST, DEFAULT_URL, status=400, body="invalid_blocks")
    responses.add(responses.POST, DEFAULT_URL, body="ok")
    result = app.lambda_handler(sqs_event(sns_envelope(ALARM), sns_envelope("hello")),
                                lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    assert len(sent()) == 2


def test_other_destinations_still_get_their_notices(lambda_context: FakeLambdaContext) -> None:
    create_webhook_secret()
    responses.replace(responses.POST, DEFAULT_URL, status=404, body="no_service")
    event = sqs_event(sns_envelope(ALARM), sns_envelope(GUARDDUTY), sns_envelope("hello"))
    result = app.lambda_handler(event, lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "msg-0"},
                                            {"itemIdentifier": "msg-2"}]}
    assert [url for url, _ in sent()] == [DEFAULT_URL, SECURITY_URL]


class Clock:
    """The invocation's clock: each request to the webhook takes `per_request` seconds."""

    def __init__(self, timeout: float, per_request: float) -> None:
        self.remaining = timeout
        self.per_request = per_request

    def context(self) -> FakeLambdaContext:
        clock = self

        class Context(FakeLambdaContext):
            def get_remaining_time_in_millis(self) -> int:
                return int(clock.remaining * 1000)

        return Context()

    def timed_out(self, request: Any) -> Any:
        self.remaining -= self.per_request
        raise requests.exceptions.ReadTimeout("read timed out")

    def slow_ok(self, request: Any) -> Any:
        self.remaining -= self.per_request
        return 200, {}, "ok"


def test_no_new_message_is_started_when_time_runs_short(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Slack timing out on a batch of 10 with a 60 s timeout: before, every message was tried
    (173 s); now nothing starts without time for a whole attempt, and the rest go back."""
    create_webhook_secret()
    clock = Clock(timeout=60, per_request=ATTEMPT_SECONDS)
    monkeypatch.setattr("slack_notifier.delivery.time.sleep",
                        lambda s: setattr(clock, "remaining", clock.remaining - s))
    responses.remove(responses.POST, DEFAULT_URL)
    responses.add_callback(responses.POST, DEFAULT_URL, callback=clock.timed_out)
    event = sqs_event(*(sns_envelope(f"message {n}") for n in range(10)))
    with pytest.raises(app.DeliveryFailedError):
        app.lambda_handler(event, clock.context())
    assert clock.remaining > 0  # the function returned before its timeout
    assert len(sent()) == 4  # four attempts fit in 60 s; the other 9 messages wait


def test_a_slow_but_working_webhook_delivers_what_fits_and_returns_the_rest() -> None:
    create_webhook_secret()
    clock = Clock(timeout=60, per_request=12)
    responses.remove(responses.POST, DEFAULT_URL)
    responses.add_callback(responses.POST, DEFAULT_URL, callback=clock.slow_ok)
    event = sqs_event(*(sns_envelope(f"message {n}") for n in range(10)))
    result = app.lambda_handler(event, clock.context())
    assert len(sent()) == 4  # 60, 48, 36, 24 s left at the starts; 12 s is not enough
    assert result == {"batchItemFailures": [{"itemIdentifier": f"msg-{n}"}
                                            for n in range(4, 10)]}
    assert clock.remaining > 0


def test_direct_invocations_try_every_notice_and_fail_if_one_failed(
        lambda_context: FakeLambdaContext) -> None:
    create_webhook_secret()
    responses.replace(responses.POST, SECURITY_URL, status=404, body="no_service")
    sns = {"Records": [{"EventSource": "aws:sns", "Sns": {
        "Type": "Notification", "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ops",
        "Message": json.dumps(message)}} for message in (GUARDDUTY, ALARM)]}
    with pytest.raises(app.DeliveryFailedError, match="1 of 2 notice"):
        app.lambda_handler(sns, lambda_context)
    assert [url for url, _ in sent()] == [SECURITY_URL, DEFAULT_URL]


# ---------------------------------------------------------------- the template's alarms
def test_the_delivery_alarm_watches_the_metric_the_function_emits(
        lambda_context: FakeLambdaContext, capsys: pytest.CaptureFixture[str]) -> None:
    """Partial failures leave the invocation successful: this alarm sees them. Its namespace
    and dimensions are those of the EMF line the function prints."""
    from tests.test_template import DOC, RESOURCES

    create_webhook_secret()
    responses.replace(responses.POST, DEFAULT_URL, status=404, body="no_service")
    app.lambda_handler(sqs_event(sns_envelope(ALARM), sns_envelope(GUARDDUTY)), lambda_context)
    emf = next(json.loads(line) for line in capsys.readouterr().out.splitlines()
               if '"NoticesFailed"' in line and line.startswith("{\"_aws\""))
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    function = RESOURCES["SlackNotifierFunction"]["Properties"]
    service = function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    alarm = RESOURCES["SlackNotifierDeliveryAlarm"]["Properties"]
    assert alarm["Namespace"] == DOC["Globals"]["Function"]["Environment"]["Variables"][
        "POWERTOOLS_METRICS_NAMESPACE"] == directive["Namespace"]
    assert alarm["MetricName"] == "NoticesFailed"
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
        "automation": "slack_notifier", "service": service}
    assert sorted(directive["Dimensions"][0]) == ["automation", "service"]
    assert emf["automation"] == "slack_notifier"


def test_the_notifier_health_alarms_reach_the_alert_email() -> None:
    """When the webhook is what fails, the alarms still reach people: every one of them
    notifies the alert topic, which AlertEmail subscribes to with no filter."""
    from tests.test_template import RESOURCES

    for name in ("SlackNotifierErrorsAlarm", "SlackNotifierDeliveryAlarm",
                 "DeadLetterQueueAlarm"):
        assert RESOURCES[name]["Properties"]["AlarmActions"] == [{"Ref": "AlertTopic"}], name
    email = RESOURCES["AlertEmailSubscription"]
    assert email["Condition"] == "HasAlertEmail"
    assert email["Properties"]["TopicArn"] == {"Ref": "AlertTopic"}
    assert email["Properties"]["Protocol"] == "email"
    assert "FilterPolicy" not in email["Properties"]


def test_alarm_actions_may_invoke_the_function_from_this_account_only() -> None:
    from tests.test_template import RESOURCES

    permission = RESOURCES["SlackNotifierAlarmActionPermission"]["Properties"]
    assert permission["Principal"] == "lambda.alarms.cloudwatch.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert permission["SourceArn"] == {"Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:"
                                              "${AWS::AccountId}:alarm:*"}


def _forwarded() -> list[tuple[str, str, dict[str, Any]]]:
    """(source, detail-type, detail pattern) of every pattern of the stack's EventBridge rule."""
    from tests.test_template import RESOURCES

    patterns = RESOURCES["AwsEventsToAlertTopic"]["Properties"]["EventPattern"]["$or"]
    return [(source, detail_type, pattern.get("detail", {})) for pattern in patterns
            for source in pattern["source"] for detail_type in pattern["detail-type"]]


def _sample_events() -> list[dict[str, Any]]:
    """Every EventBridge event among the samples, direct or inside an SQS record."""
    from tests.conftest import EVENTS

    def parsed(text: Any) -> Any:
        try:
            return json.loads(text)
        except (TypeError, ValueError):
            return None  # the samples include text, and a truncated body on purpose

    found = []
    for path in sorted(EVENTS.glob("slack_notifier/*.json")):
        event = json.loads(path.read_text())
        for record in event.get("Records", [event]):
            body = parsed(record["body"]) if "body" in record else record
            message = parsed(body.get("Message")) if isinstance(body, dict) else None
            payload = message if isinstance(message, dict) else body
            if isinstance(payload, dict) and "detail-type" in payload:
                found.append(payload)
    return found


@pytest.mark.parametrize(("source", "detail_type", "detail"), _forwarded(),
                         ids=lambda value: value if isinstance(value, str) else "")
def test_every_forwarded_event_has_its_renderer(source: str, detail_type: str,
                                                detail: dict[str, Any]) -> None:
    """What the rule sends to the topic gets its own rendering (never the generic one), and a
    sample of each pattern shows it at a severity that pages (critical or warning)."""
    from slack_notifier.render_events import EVENT_RENDERERS
    from slack_notifier.renderers import Incoming, render

    assert (source, detail_type) in EVENT_RENDERERS
    samples = [e for e in _sample_events() if e["source"] == source
               and e["detail-type"] in {d for s, d, _ in _forwarded() if s == source}]
    assert samples, f"no sample event for {source}"
    for sample in samples:
        notice = render(Incoming(sample))
        assert notice.source == source
        assert notice.title != f"{sample['detail-type']} ({source})"  # not the generic one
    matching = [render(Incoming(e)) for e in samples
                if e["detail-type"] == detail_type and _matches(e["detail"], detail)]
    if detail:  # a filtered pattern forwards failures only
        assert matching, f"no sample event the rule forwards for {detail_type}"
        assert all(n.severity in ("critical", "warning") for n in matching)


def _matches(detail: dict[str, Any], pattern: dict[str, Any]) -> bool:
    """The rule's detail filters: a list of values, or one numeric ">=" comparison."""
    for key, allowed in pattern.items():
        value = detail.get(key)
        if isinstance(allowed[0], dict):
            operator, bound = allowed[0]["numeric"]
            assert operator == ">="
            if not (isinstance(value, int | float) and value >= bound):
                return False
        elif value not in allowed:
            return False
    return True


@pytest.mark.parametrize("attributes", ["x", ["a"], {"EventType": "not an object"},
                                        {"State": {"Type": "String", "Value": None}}])
def test_odd_message_attributes_are_ignored(attributes: Any,
                                            lambda_context: FakeLambdaContext) -> None:
    """Message attributes that are not the usual objects used to raise while unwrapping: the
    message was lost (SQS) or the invocation failed (direct SNS)."""
    create_webhook_secret()
    envelope = json.loads(sns_envelope(ALARM)) | {"MessageAttributes": attributes}
    assert app.lambda_handler(sqs_event(json.dumps(envelope)), lambda_context) == {
        "batchItemFailures": []}
    direct = {"Records": [{"EventSource": "aws:sns", "Sns": envelope}]}
    assert app.lambda_handler(direct, lambda_context)["delivered"]
    assert titles() == [":red_circle: ALARM: orders-api-5xx"] * 2
