"""The deployment guard on moto: hooks and jobs answered, each failure kind, the bake through
continuation tokens, malformed events, the SSRF guards, dry run, the declared permissions."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import requests
import responses

from deploy_guard import app
from deploy_guard.checks import refusal
from deploy_guard.events import MalformedEventError, parse_request
from deploy_guard.permissions import PERMISSIONS
from deploy_guard.spec import SpecError, parse_spec
from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext, load_event
from tests.deploy_guard.conftest import HOOK, PUBLIC
from tests.deploy_guard.fakes import (
    PARAMETER,
    START,
    Answers,
    FakeClock,
    FakeDns,
    put_checks,
)

URL = "https://orders.example.com/health"


@dataclass
class Context(FakeLambdaContext):
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def hook_event(name: str = "codedeploy-after-allow-traffic") -> dict[str, Any]:
    return load_event(f"deploy_guard/{name}.json")


def job_event(parameters: str, token: str | None = None) -> dict[str, Any]:
    event = load_event("deploy_guard/codepipeline-job.json")
    data = event["CodePipeline.job"]["data"]
    data["actionConfiguration"]["configuration"]["UserParameters"] = parameters
    if token is not None:
        data["continuationToken"] = token
    return event


def http(**fields: Any) -> dict[str, Any]:
    return {"type": "http", "name": "health", "url": URL, "retries": 0, **fields}


def invoke(event: Any, context: FakeLambdaContext | None = None) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(event, context or Context())
    return result


def report(inbox: AlertInbox) -> dict[str, Any]:
    (published,) = inbox.received()
    return published


# --- CodeDeploy hooks -----------------------------------------------------------------------

@pytest.mark.usefixtures("clock", "dns")
def test_a_passing_hook_answers_succeeded_and_reports_each_check(
        answers: Answers, web: responses.RequestsMock, alert_inbox: AlertInbox) -> None:
    put_checks({"checks": [http(json_path="status", json_equals="ok", body_contains="ok")]})
    web.add(responses.GET, URL, json={"status": "ok"})
    result = invoke(hook_event())
    assert answers.hook_statuses == ["Succeeded"]
    assert answers.of("PutLifecycleEventHookExecutionStatus")[0] == {
        "deploymentId": HOOK, "status": "Succeeded",
        "lifecycleEventHookExecutionId": hook_event()["LifecycleEventHookExecutionId"]}
    assert result["verdict"] == "passed"
    assert result["answered"] == "Succeeded"
    sent = report(alert_inbox)
    assert sent["schema"] == "opskit.report/1"
    assert sent["automation"] == "deploy_guard"
    assert sent["severity"] == "info"
    assert sent["verdict"] == "passed"
    assert sent["console"].endswith(f"/deployments/{HOOK}?region=eu-west-1")
    check = next(a for a in sent["actions"] if a["action"] == "check")
    assert check["status"] == "done"
    assert check["details"]["status"] == 200
    assert check["resource_type"] == "deploy_guard:http"


@pytest.mark.usefixtures("clock", "dns")
@pytest.mark.parametrize(("checks", "body", "status", "why"), [
    ({}, {"status": "ok"}, 503, "status 503, expected 200"),
    ({"body_contains": "healthy"}, {"status": "ok"}, 200, "does not contain 'healthy'"),
    ({"json_path": "status", "json_equals": "ok"}, {"status": "degraded"}, 200,
     'status is "degraded", expected "ok"'),
    ({"json_path": "checks.0.state"}, {"checks": []}, 200, "no value at json_path"),
])
def test_each_http_failure_answers_failed(
        *, answers: Answers, web: responses.RequestsMock, alert_inbox: AlertInbox,
        checks: dict[str, Any], body: Any, status: int, why: str) -> None:
    put_checks({"checks": [http(**checks)]})
    web.add(responses.GET, URL, json=body, status=status)
    result = invoke(hook_event())
    assert answers.hook_statuses == ["Failed"]
    assert result["verdict"] == "failed"
    sent = report(alert_inbox)
    assert sent["severity"] == "critical"
    assert sent["counts"]["failed"] == 1
    failed = next(a for a in sent["actions"] if a["status"] == "failed")
    assert why in failed["reason"]


@pytest.mark.usefixtures("dns")
def test_a_slow_response_fails_the_latency_budget(
        answers: Answers, web: responses.RequestsMock, clock: FakeClock) -> None:
    put_checks({"checks": [http(latency_ms=500)]})

    def slow(_request: Any) -> tuple[int, dict[str, str], str]:
        clock.advance(0.8)
        return 200, {}, "ok"

    web.add_callback(responses.GET, URL, callback=slow)
    invoke(hook_event())
    assert answers.hook_statuses == ["Failed"]


@pytest.mark.usefixtures("dns")
def test_retries_wait_then_pass(answers: Answers, web: responses.RequestsMock,
                                clock: FakeClock) -> None:
    put_checks({"checks": [http(retries=2, retry_delay_seconds=3)]})
    web.add(responses.GET, URL, status=502)
    web.add(responses.GET, URL, body=requests.exceptions.ConnectionError("reset"))
    web.add(responses.GET, URL, status=200)
    result = invoke(hook_event())
    assert answers.hook_statuses == ["Succeeded"]
    assert result["verdict"] == "passed"
    assert clock.slept == [3, 3]
    assert len(web.calls) == 3


@pytest.mark.usefixtures("clock", "dns")
def test_timeouts_fail_after_the_retries(answers: Answers, web: responses.RequestsMock,
                                         alert_inbox: AlertInbox) -> None:
    put_checks({"checks": [http(retries=1, retry_delay_seconds=0, timeout_seconds=2)]})
    web.add(responses.GET, URL, body=requests.exceptions.ReadTimeout("slow"))
    invoke(hook_event())
    assert answers.hook_statuses == ["Failed"]
    assert len(web.calls) == 2
    failed = report(alert_inbox)["actions"][0]
    assert "timed out after 2 s" in failed["reason"]
    assert failed["details"]["attempts"] == 2


@pytest.mark.usefixtures("clock", "dns")
def test_no_attempt_starts_that_could_not_end_within_the_functions_time(
        answers: Answers, web: responses.RequestsMock) -> None:
    put_checks({"checks": [http(timeout_seconds=30)]})
    web.add(responses.GET, URL, status=200)
    invoke(hook_event(), Context(remaining_ms=60_000))  # 20 s left for the checks
    assert answers.hook_statuses == ["Failed"]
    assert len(web.calls) == 0


@pytest.mark.usefixtures("clock", "dns")
def test_an_alarm_in_alarm_fails_and_alarms_are_asked_by_100(
        answers: Answers, api_calls: ApiCalls, alert_inbox: AlertInbox) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
    names = [f"orders-{i:03}" for i in range(150)]
    for name in names:
        cloudwatch.put_metric_alarm(AlarmName=name, Namespace="AWS/Lambda", MetricName="Errors",
                                    Statistic="Sum", Period=60, EvaluationPeriods=1,
                                    Threshold=1, ComparisonOperator="GreaterThanThreshold")
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test")
    cloudwatch.set_alarm_state(AlarmName="orders-120", StateValue="ALARM", StateReason="test")
    put_checks({"checks": [{"type": "alarms", "name": "alarms", "alarm_names": names}]})
    api_calls.reset()
    invoke(hook_event())
    assert answers.hook_statuses == ["Failed"]
    assert api_calls.of("cloudwatch", "DescribeAlarms") == 2
    failed = report(alert_inbox)["actions"][0]
    assert failed["details"]["not_ok"] == {"orders-120": "ALARM"}


@pytest.mark.usefixtures("dns")
def test_a_metric_over_its_maximum_fails(answers: Answers, clock: FakeClock) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
    at = datetime.fromtimestamp(clock.time() - 120, UTC)
    cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[{
        "MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": "orders"}],
        "Timestamp": at, "Value": 7.0}])
    check = {"type": "metric", "name": "errors", "namespace": "AWS/Lambda",
             "metric_name": "Errors", "dimensions": {"FunctionName": "orders"}, "maximum": 5}
    put_checks({"checks": [check]})
    invoke(hook_event())
    assert answers.hook_statuses == ["Failed"]
    put_checks({"checks": [{**check, "maximum": 10}]})
    invoke(hook_event())
    assert answers.hook_statuses == ["Failed", "Succeeded"]


@pytest.mark.usefixtures("dns")
def test_a_hook_bakes_within_its_time(answers: Answers, web: responses.RequestsMock,
                                      clock: FakeClock) -> None:
    put_checks({"bake_seconds": 90, "interval_seconds": 30, "checks": [http()]})
    web.add(responses.GET, URL, status=200)
    result = invoke(hook_event())
    assert answers.hook_statuses == ["Succeeded"]
    assert clock.slept == [30, 30, 30]
    assert len(web.calls) == 4
    assert result["verdict"] == "passed"


# --- CodePipeline jobs and the bake across invocations -----------------------------------

@pytest.mark.usefixtures("dns")
def test_a_pipeline_bake_continues_then_finishes(
        answers: Answers, web: responses.RequestsMock, clock: FakeClock,
        alert_inbox: AlertInbox) -> None:
    put_checks({"bake_seconds": 120, "interval_seconds": 30, "checks": [http()]})
    web.add(responses.GET, URL, status=200)
    first = invoke(job_event(PARAMETER))
    (success,) = answers.of("PutJobSuccessResult")
    token = success["continuationToken"]
    job_id = job_event(PARAMETER)["CodePipeline.job"]["id"]
    assert json.loads(token) == {"v": 2, "job": job_id, "started": int(START), "rounds": 3}
    assert first["answered"] == "InProgress"
    assert first["verdict"] is None
    assert clock.time() - START == 60  # no invocation watched longer than a minute
    assert alert_inbox.received() == []  # not a verdict yet: nothing published

    clock.advance(5)  # CodePipeline invokes again with the token
    last = invoke(job_event(PARAMETER, token))
    assert last["verdict"] == "passed"
    assert last["answered"] == "Succeeded"
    assert "continuationToken" not in answers.of("PutJobSuccessResult")[-1]
    assert report(alert_inbox)["rounds"] == 6


@pytest.mark.usefixtures("clock", "dns")
def test_a_pipeline_failure_answers_put_job_failure_result(
        answers: Answers, web: responses.RequestsMock) -> None:
    web.add(responses.GET, URL, status=500)
    invoke(job_event(json.dumps({"checks": [http()]})))
    (failure,) = answers.of("PutJobFailureResult")
    assert failure["failureDetails"]["type"] == "JobFailed"
    assert "status 500" in failure["failureDetails"]["message"]
    assert answers.of("PutJobSuccessResult") == []


@pytest.mark.usefixtures("clock", "dns")
def test_a_forged_continuation_token_fails_the_job(answers: Answers) -> None:
    put_checks({"checks": [http()]})
    result = invoke(job_event(PARAMETER, json.dumps({"v": 2, "started": 5, "rounds": 1})))
    assert answers.of("PutJobFailureResult")
    assert "continuation token" in result["error"]


# --- Malformed events and declarations ----------------------------------------------------

@pytest.mark.usefixtures("clock", "dns")
def test_a_malformed_hook_is_refused_by_name_and_still_answered_failed(
        answers: Answers, alert_inbox: AlertInbox) -> None:
    result = invoke(load_event("deploy_guard/malformed-hook.json"))
    assert result["error"].startswith("DeploymentId='deployment-42' is invalid: expected")
    assert answers.hook_statuses == ["Failed"]
    assert answers.of("GetDeployment") == []  # nothing checked
    assert report(alert_inbox)["error"] == result["error"]


@pytest.mark.usefixtures("clock", "dns")
def test_a_malformed_job_is_refused_by_name_and_still_answered_failed(
        answers: Answers) -> None:
    event = job_event("x")
    del event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"][
        "UserParameters"]
    result = invoke(event)
    assert "UserParameters=None is invalid" in result["error"]
    assert answers.of("PutJobFailureResult")


@pytest.mark.usefixtures("clock", "dns")
def test_an_event_without_readable_ids_is_refused_and_cannot_be_answered(
        answers: Answers) -> None:
    with pytest.raises(MalformedEventError, match="LifecycleEventHookExecutionId"):
        invoke({"DeploymentId": HOOK, "LifecycleEventHookExecutionId": "a b"})
    with pytest.raises(MalformedEventError, match="event="):
        invoke({"detail-type": "Scheduled Event"})
    assert answers.calls == []


@pytest.mark.usefixtures("clock", "dns")
@pytest.mark.parametrize(("declaration", "field"), [
    ("not json", "='not json' is invalid: expected JSON"),
    ({"checks": []}, ".checks=[]"),
    ({"checks": [{"type": "ping"}]}, ".checks[0].type='ping'"),
    ({"checks": [http(urls=URL)]}, ".checks[0].urls="),
    ({"checks": [http(url="ftp://x.example.com/")]}, ".checks[0].url="),
    ({"checks": [http(retries=99)]}, ".checks[0].retries=99"),
    ({"bake_seconds": 99_999, "checks": [http()]}, ".bake_seconds=99999"),
])
def test_a_bad_declaration_answers_failed_naming_the_field(
        answers: Answers, declaration: Any, field: str) -> None:
    put_checks(declaration)
    result = invoke(hook_event())
    assert field in result["error"]
    assert "is invalid" in result["error"]
    assert answers.hook_statuses == ["Failed"]


@pytest.mark.usefixtures("clock", "dns")
def test_missing_checks_answer_failed(answers: Answers) -> None:
    result = invoke(hook_event())
    assert f"parameter='{PARAMETER}' is invalid" in result["error"]
    assert answers.hook_statuses == ["Failed"]


@pytest.mark.usefixtures("clock", "dns")
def test_a_pipeline_may_read_no_parameter_outside_the_prefix(answers: Answers) -> None:
    result = invoke(job_event("/prod/database/password"))
    assert "under /opskit/deploy-guard/" in result["error"]
    assert answers.of("PutJobFailureResult")


# --- SSRF guards ---------------------------------------------------------------------------

@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize(("url", "names", "why"), [
    ("https://169.254.169.254/latest/meta-data/", {}, "link-local, metadata"),
    ("https://metadata.example.com/", {"metadata.example.com": ["169.254.169.254"]},
     "link-local, metadata"),
    ("https://mixed.example.com/", {"mixed.example.com": [PUBLIC, "169.254.170.2"]},
     "link-local, metadata"),
    ("https://[::1]/", {}, "loopback"),
    ("https://[fd00:ec2::254]/", {}, "metadata"),
    ("https://[::ffff:169.254.169.254]/", {}, "metadata"),
    ("https://localhost/", {"localhost": ["127.0.0.1"]}, "loopback"),
    ("https://internal.example.com/", {"internal.example.com": ["10.1.2.3"]}, "private"),
    ("https://nowhere.example.com/", {}, "does not resolve"),
])
def test_the_guard_never_asks_forbidden_addresses(
        *, answers: Answers, web: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox, url: str, names: dict[str, list[str]], why: str) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", FakeDns(names))
    web.add(responses.GET, url, status=200)
    put_checks({"checks": [http(url=url, retries=3)]})
    invoke(hook_event())
    assert answers.hook_statuses == ["Failed"]
    assert len(web.calls) == 0
    assert why in report(alert_inbox)["actions"][0]["reason"]


@pytest.mark.usefixtures("clock", "dns")
def test_http_is_refused_unless_allowed(answers: Answers, web: responses.RequestsMock,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    plain = "http://orders.example.com/health"
    web.add(responses.GET, plain, status=200)
    put_checks({"checks": [http(url=plain)]})
    result = invoke(hook_event())
    assert "expected an https:// URL" in result["error"]
    assert len(web.calls) == 0
    monkeypatch.setenv("ALLOW_HTTP", "true")
    invoke(hook_event())
    assert answers.hook_statuses == ["Failed", "Succeeded"]


@pytest.mark.usefixtures("clock")
def test_private_networks_only_when_allowed_and_metadata_never(
        answers: Answers, web: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", FakeDns({
        "internal.example.com": ["10.1.2.3"], "meta.example.com": ["169.254.169.254"]}))
    monkeypatch.setenv("ALLOW_PRIVATE_NETWORKS", "true")
    web.add(responses.GET, "https://internal.example.com/", status=200)
    web.add(responses.GET, "https://meta.example.com/", status=200)
    put_checks({"checks": [http(url="https://internal.example.com/")]})
    invoke(hook_event())
    put_checks({"checks": [http(url="https://meta.example.com/")]})
    invoke(hook_event())
    assert answers.hook_statuses == ["Succeeded", "Failed"]
    assert [c.request.url for c in web.calls] == ["https://internal.example.com/"]


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize("location", ["https://internal.example.com/admin",
                                      "http://orders.example.com/plain",
                                      "https://169.254.169.254/latest/meta-data/"])
def test_redirects_are_checked_before_they_are_followed(
        answers: Answers, web: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch,
        location: str) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", FakeDns({
        "orders.example.com": [PUBLIC], "internal.example.com": ["192.168.1.5"]}))
    web.add(responses.GET, URL, status=302, headers={"Location": location})
    web.add(responses.GET, location, status=200)
    put_checks({"checks": [http()]})
    invoke(hook_event())
    assert answers.hook_statuses == ["Failed"]
    assert [c.request.url for c in web.calls] == [URL]


@pytest.mark.usefixtures("clock", "dns")
def test_an_allowed_redirect_is_followed(answers: Answers, web: responses.RequestsMock) -> None:
    web.add(responses.GET, URL, status=301, headers={"Location": "https://api.example.com/ok"})
    web.add(responses.GET, "https://api.example.com/ok", status=200)
    put_checks({"checks": [http()]})
    invoke(hook_event())
    assert answers.hook_statuses == ["Succeeded"]


@pytest.mark.parametrize(("address", "refused"), [
    ("169.254.169.254", True), ("169.254.170.2", True), ("fd00:ec2::254", True),
    ("127.0.0.53", True), ("::1", True), ("fe80::1", True),
    ("0.0.0.0", True),  # noqa: S104 - an address refused, never bound
    ("::ffff:127.0.0.1", True), ("10.0.0.1", True), ("172.20.0.1", True),
    ("192.168.0.1", True), ("fd12:3456::1", True), (PUBLIC, False), ("2001:db8::1", False),
])
def test_refusal(address: str, refused: bool) -> None:
    assert (refusal(address, allow_private=False) is not None) is refused


# --- Dry run ------------------------------------------------------------------------------

@pytest.mark.usefixtures("clock", "dns")
def test_dry_run_reports_the_real_verdict_but_answers_succeeded(
        answers: Answers, web: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    put_checks({"checks": [http()]})
    web.add(responses.GET, URL, status=500)
    result = invoke(hook_event())
    assert answers.hook_statuses == ["Succeeded"]
    assert result["verdict"] == "failed"
    assert result["counts"]["done"] == 0
    sent = report(alert_inbox)
    assert sent["dry_run"] is True
    assert sent["severity"] == "warning"
    assert "would fail 1 of 1" in sent["title"]
    assert {a["action"]: a["status"] for a in sent["actions"]} == {
        "check": "failed", "answer Failed": "planned"}


@pytest.mark.usefixtures("clock", "dns")
def test_dry_run_answers_succeeded_even_for_a_malformed_job(
        answers: Answers, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    result = invoke(job_event("{not json"))
    assert result["verdict"] == "error"
    assert answers.of("PutJobFailureResult") == []
    assert len(answers.of("PutJobSuccessResult")) == 1


# --- Answering ----------------------------------------------------------------------------

@pytest.mark.usefixtures("clock", "dns")
def test_an_internal_error_still_answers_failed(
        answers: Answers, monkeypatch: pytest.MonkeyPatch) -> None:
    from deploy_guard import review

    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("boom")

    monkeypatch.setattr(review, "guard_hook", broken)
    put_checks({"checks": [http()]})
    result = invoke(hook_event())
    assert answers.hook_statuses == ["Failed"]
    assert result["error"].startswith("internal error: KeyError")


@pytest.mark.usefixtures("clock", "dns")
def test_an_already_answered_hook_counts_as_answered(
        answers: Answers, web: responses.RequestsMock) -> None:
    answers.fail_with = "LifecycleEventAlreadyCompletedException"
    put_checks({"checks": [http()]})
    web.add(responses.GET, URL, status=200)
    result = invoke(hook_event())
    assert result["answered"] == "Succeeded"


@pytest.mark.usefixtures("clock", "dns")
def test_a_hook_that_cannot_be_answered_raises_for_lambda_to_retry(
        answers: Answers, web: responses.RequestsMock) -> None:
    answers.fail_with = "ThrottlingException"
    put_checks({"checks": [http()]})
    web.add(responses.GET, URL, status=200)
    with pytest.raises(app.AnswerNotSentError):
        invoke(hook_event())


# --- Permissions and declarations ---------------------------------------------------------

@pytest.mark.usefixtures("clock", "dns")
def test_every_call_made_is_declared(answers: Answers, web: responses.RequestsMock,
                                     api_calls: ApiCalls) -> None:
    web.add(responses.GET, URL, status=200)
    boto3.client("cloudwatch", region_name="eu-west-1").put_metric_alarm(
        AlarmName="a", Namespace="n", MetricName="m", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    metric = {"type": "metric", "name": "m", "namespace": "n", "metric_name": "m",
              "maximum": 1}
    declaration = {"checks": [http(), metric, {"type": "alarms", "name": "a",
                                               "alarm_names": ["a"],
                                               "allow_insufficient_data": True}]}
    put_checks(declaration)
    api_calls.reset()
    invoke(hook_event())
    invoke(job_event(json.dumps(declaration)))
    invoke(job_event(json.dumps({"checks": [http(url="https://nowhere.example.com/")]})))
    # The calls moto lacks are answered by a before-call hook ahead of the counter: add them.
    services = {"GetDeployment": "codedeploy", "PutLifecycleEventHookExecutionStatus":
                "codedeploy", "GetJobDetails": "codepipeline",
                "PutJobSuccessResult": "codepipeline", "PutJobFailureResult": "codepipeline"}
    made = {*api_calls.counts, *((services[name], name) for name, _ in answers.calls)}
    declared = PERMISSIONS.operations()
    assert made - declared == set()
    assert {("codedeploy", "PutLifecycleEventHookExecutionStatus"),
            ("codepipeline", "PutJobSuccessResult"), ("codepipeline", "PutJobFailureResult"),
            ("cloudwatch", "DescribeAlarms"), ("cloudwatch", "GetMetricData"),
            ("ssm", "GetParameter"), ("sns", "Publish")} <= made


def test_the_sample_events_parse() -> None:
    for name in ("codedeploy-before-allow-traffic", "codedeploy-after-allow-traffic",
                 "codedeploy-ecs-after-allow-test-traffic", "codepipeline-job",
                 "codepipeline-job-continuation"):
        parse_request(load_event(f"deploy_guard/{name}.json"))
    with pytest.raises(MalformedEventError) as info:
        parse_request(load_event("deploy_guard/malformed-hook.json"))
    assert info.value.subject is not None


def test_the_declaration_is_read_strictly() -> None:
    spec = parse_spec(json.dumps({"bake_seconds": 60, "checks": [http(expect_status=[200, 204])]}),
                      allow_http=False, max_bake_seconds=3600)
    assert spec.bake_seconds == 60
    assert spec.checks[0].expect_status == (200, 204)
    with pytest.raises(SpecError, match=r"checks\[1\]\.name='health' is invalid"):
        parse_spec(json.dumps({"checks": [http(), http()]}), allow_http=False,
                   max_bake_seconds=0)
    with pytest.raises(SpecError, match="user or password"):
        parse_spec(json.dumps({"checks": [http(url="https://u:p@x.example.com/")]}),
                   allow_http=False, max_bake_seconds=0)
