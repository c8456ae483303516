"""One hook or job reviewed: its checks read, run, answered, and the verdict reported."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from deploy_guard.answer import (
    ALREADY_ANSWERED,
    CodeDeployClient,
    CodePipelineClient,
    answer,
)
from deploy_guard.checks import (
    CLOUDWATCH_ATTEMPTS,
    CLOUDWATCH_CONNECT_SECONDS,
    CLOUDWATCH_READ_SECONDS,
    CheckResult,
    Clock,
    Deadline,
    HttpProbe,
    SystemClock,
)
from deploy_guard.events import HookRequest, JobRequest, MalformedEventError, Request, parse_request
from deploy_guard.guard import (
    Checker,
    OutOfTimeError,
    TokenError,
    Verdict,
    guard_hook,
    guard_job,
)
from deploy_guard.settings import AUTOMATION, GuardConfig
from deploy_guard.spec import (
    SpecError,
    SsmClient,
    hook_parameter,
    job_declaration,
    parse_spec,
    read_declaration,
)
from opskit.actions import Action, Executor, error_code
from opskit.aws import SessionFactory, Target
from opskit.config import ConfigError
from opskit.observability import logger
from opskit.runner import DEADLINE_MARGIN_MS, TargetRun, run_automation

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_cloudwatch import CloudWatchClient

# The checks stop this long before the runner's own deadline margin: the answer and the report
# are sent within the margin, never skipped for lack of time.
ANSWER_MARGIN_SECONDS = DEADLINE_MARGIN_MS / 1000 + 10
# What the report and the reply show of a failed review's error.
ERROR_MAX_CHARS = 1000
# An answer that fails (throttled, a network error) is sent again: this many attempts, with
# this first pause (doubled each time), never closer than ANSWER_RESERVE_SECONDS to Lambda's
# own deadline.
ANSWER_ATTEMPTS = 4
ANSWER_BACKOFF_SECONDS = 0.5
ANSWER_RESERVE_SECONDS = 3.0
# The checks' CloudWatch client: a call's longest duration is bounded (checks.py).
CHECKS_CLOUDWATCH = Config(connect_timeout=CLOUDWATCH_CONNECT_SECONDS,
                           read_timeout=CLOUDWATCH_READ_SECONDS,
                           retries={"max_attempts": CLOUDWATCH_ATTEMPTS, "mode": "standard"})


class AnswerNotSentError(RuntimeError):
    """The hook or job could not be answered: raised so Lambda retries the invocation."""


@dataclass
class Clients:
    """The clients of one session, made when first used."""

    session: boto3.Session

    def codedeploy(self) -> CodeDeployClient:
        return cast("CodeDeployClient", self.session.client("codedeploy"))

    def codepipeline(self) -> CodePipelineClient:
        return cast("CodePipelineClient", self.session.client("codepipeline"))

    def cloudwatch(self) -> CloudWatchClient:
        return self.session.client("cloudwatch", config=CHECKS_CLOUDWATCH)

    def ssm(self) -> SsmClient:
        return cast("SsmClient", self.session.client("ssm"))


@dataclass
class Review:
    """What one invocation decided and sent (the handler's reply)."""

    request: Request
    error: str | None = None
    verdict: str | None = None  # passed, failed, error; None while a bake goes on
    answered: str | None = None  # the status sent: Succeeded, Failed, InProgress
    notes: list[str] = field(default_factory=list)
    # The bake goes on: the continuation token to answer with (the last resort resends it).
    continuation: str | None = None

    @property
    def subject(self) -> dict[str, str]:
        if isinstance(self.request, HookRequest):
            return {"deployment_id": self.request.deployment_id,
                    "hook_execution_id": self.request.execution_id}
        return {"job_id": self.request.job_id}


def describe(request: Request) -> str:
    if isinstance(request, HookRequest):
        return f"Deployment {request.deployment_id}"
    return f"Pipeline job {request.job_id[:8]}"


def console_link(request: Request, region: str) -> str | None:
    if isinstance(request, HookRequest):
        return (f"https://{region}.console.aws.amazon.com/codesuite/codedeploy/deployments/"
                f"{request.deployment_id}?region={region}")
    return None  # the job's event does not name its pipeline


def _checks_of(request: Request, clients: Clients, config: GuardConfig) -> tuple[str, str]:
    prefix = config.checks_parameter_prefix
    if isinstance(request, HookRequest):
        name = hook_parameter(clients.codedeploy(), request.deployment_id, prefix)
        return read_declaration(clients.ssm(), name, prefix), name
    return job_declaration(clients.ssm(), request.user_parameters, prefix)


def verify_token(codepipeline: CodePipelineClient, job: JobRequest) -> None:
    """The event's continuation token must be the one CodePipeline holds for this job of this
    account (GetJobDetails): an invoker cannot forge one, nor copy another job's."""
    try:
        details = codepipeline.get_job_details(jobId=job.job_id)["jobDetails"]
    except ClientError as exc:
        code = error_code(exc)
        if code in ("JobNotFoundException", "ValidationException"):
            raise TokenError(f"the continuation token is refused: job {job.job_id} is not a "
                             f"job of this account ({code})") from None
        raise
    data = details.get("data") or {}
    if details.get("id", job.job_id) != job.job_id or data.get(
            "continuationToken") != job.continuation_token:
        raise TokenError("the continuation token is not the one CodePipeline holds for this "
                         "job")


def decide(request: Request, clients: Clients, config: GuardConfig, checker: Checker) -> Verdict:
    text, source = _checks_of(request, clients, config)
    spec = parse_spec(text, allow_http=config.allow_http,
                      max_bake_seconds=config.max_bake_seconds, source=source)
    if isinstance(request, HookRequest):
        left = checker.deadline.left()
        if spec.bake_seconds > left:
            raise SpecError(f"{source}.bake_seconds", spec.bake_seconds,
                            f"at most {int(left)} s, the time this function has left for the "
                            "checks (raise its timeout or shorten bake_seconds; a pipeline "
                            "action can bake across invocations)")
        return guard_hook(spec, checker)
    if request.continuation_token is not None:
        verify_token(clients.codepipeline(), request)
    return guard_job(spec, checker, request.continuation_token, job_id=request.job_id,
                     wait_seconds=config.invocation_wait_seconds,
                     max_bake_seconds=config.max_bake_seconds)


def send_answer(request: Request, clients: Clients, clock: Clock,  # noqa: PLR0917
                remaining_ms: Callable[[], int], succeeded: bool, message: str, *,
                continuation_token: str | None = None) -> str:
    """Answer, sending again with a short backoff when the call fails (throttled, a network
    error), within the function's time; the last error is raised. Already answered is raised
    at once (the answer stands)."""
    delay = ANSWER_BACKOFF_SECONDS
    for attempt in range(1, ANSWER_ATTEMPTS + 1):
        try:
            return answer(clients.codedeploy(), clients.codepipeline(), request, succeeded,
                          message, continuation_token=continuation_token)
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and error_code(exc) in ALREADY_ANSWERED:
                raise
            if (attempt == ANSWER_ATTEMPTS
                    or remaining_ms() / 1000 - delay < ANSWER_RESERVE_SECONDS):
                raise
            logger.warning("answer failed, sending again", extra={
                "error": f"{type(exc).__name__}: {exc}", "attempt": attempt})
        clock.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def _check_action(result: CheckResult) -> Action:
    return Action(resource=result.check.name, resource_type=f"deploy_guard:{result.check.kind}",
                  action="check", reason=result.summary, details=dict(result.details))


def review(state: Review, clients: Clients, config: GuardConfig, clock: Clock, *,
           executor: Executor, deadline: Deadline, region: str) -> TargetRun:
    """Run the request's checks (unless its event was malformed), answer, and say what to
    report. Never raises for the checks: an error is a Failed answer (live)."""
    request, dry_run = state.request, config.common.dry_run
    verdict: Verdict | None = None
    if state.error is None:
        probe = HttpProbe(clock, config.allow_http, config.allow_private_networks)
        checker = Checker(clients.cloudwatch, probe, clock, deadline)
        try:
            verdict = decide(request, clients, config, checker)
        except (SpecError, TokenError, OutOfTimeError) as exc:
            state.error = str(exc)
        except (ClientError, BotoCoreError) as exc:
            state.error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # an internal error answers Failed, never leaves it waiting
            logger.exception("review failed")
            state.error = f"internal error: {type(exc).__name__}: {exc}"
    if state.error is not None:
        state.error = state.error[:ERROR_MAX_CHARS]
    for result in verdict.results if verdict is not None else ():
        action = _check_action(result)
        if result.passed:
            executor.run([action], lambda _batch: None)
        else:
            executor.fail(action, "check failed")
    if verdict is not None and verdict.note:
        state.notes.append(verdict.note)
    remaining = deadline.remaining_ms
    if verdict is not None and not verdict.finished:
        return _continue(state, clients, verdict, clock, remaining)
    passed = verdict is not None and verdict.passed
    state.verdict = "error" if verdict is None else ("passed" if passed else "failed")
    _answer(state, clients, executor, passed=passed, dry_run=dry_run, verdict=verdict,
            clock=clock, remaining_ms=remaining)
    return _target_run(state, verdict, dry_run, region)


def _message(state: Review, verdict: Verdict | None) -> str:
    if verdict is None:
        return f"deploy_guard could not check: {state.error}"
    if not verdict.passed:
        return "deploy_guard: " + "; ".join(f"{r.check.name}: {r.summary}"
                                            for r in verdict.failed)
    return f"deploy_guard: {len(verdict.results)} check(s) passed"


def _continue(state: Review, clients: Clients, verdict: Verdict, clock: Clock,
              remaining_ms: Callable[[], int]) -> TargetRun:
    """The bake goes on: success with a continuation token, in every mode (not a verdict).
    When it cannot be sent, the last resort sends it again."""
    if not isinstance(state.request, JobRequest):  # pragma: no cover - hooks always finish
        raise TypeError("only a pipeline job bakes across invocations")
    state.continuation = verdict.bake.to_token(state.request.job_id)
    try:
        state.answered = send_answer(
            state.request, clients, clock, remaining_ms, True,
            f"deploy_guard: baking, round {verdict.bake.rounds} passed",
            continuation_token=state.continuation)
    except (ClientError, BotoCoreError) as exc:
        logger.error("the continuation could not be sent", extra={
            "error": f"{type(exc).__name__}: {exc}"})
    logger.info("bake goes on", extra={"job_id": state.request.job_id,
                                       "rounds": verdict.bake.rounds})
    return TargetRun(title=f"{describe(state.request)}: baking, round {verdict.bake.rounds} "
                     "passed", quiet=True, extra={"verdict": None, "answered": state.answered})


def _answer(state: Review, clients: Clients, executor: Executor, *, passed: bool,
            dry_run: bool, verdict: Verdict | None, clock: Clock,
            remaining_ms: Callable[[], int]) -> None:
    request, wanted = state.request, "Succeeded" if passed else "Failed"
    message = _message(state, verdict)
    subject = request.deployment_id if isinstance(request, HookRequest) else request.job_id
    kind = "codedeploy:deployment" if isinstance(request, HookRequest) else "codepipeline:job"
    action = Action(resource=subject, resource_type=kind, action=f"answer {wanted}",
                    reason=message[:300], details=state.subject)

    def send(_batch: object) -> None:
        state.answered = send_answer(request, clients, clock, remaining_ms, passed, message)

    outcomes = executor.run([action], send, idempotent_errors=ALREADY_ANSWERED)
    if dry_run:  # the verdict is reported (planned above); the answer is always a success
        try:
            state.answered = send_answer(request, clients, clock, remaining_ms, True,
                                         f"{message} (dry run: answered Succeeded)")
        except (ClientError, BotoCoreError) as exc:
            executor.fail(Action(subject, kind, "answer Succeeded (dry run)", message[:300],
                                 state.subject), f"{type(exc).__name__}: {exc}")
    elif outcomes and outcomes[0].note.startswith("already done"):
        state.answered = wanted


def _target_run(state: Review, verdict: Verdict | None, dry_run: bool,
                region: str) -> TargetRun:
    who = describe(state.request)
    answered = state.answered or "nothing (could not answer)"
    if verdict is None:
        title = f"{who} not checked: answered {answered}"
        severity = "warning" if dry_run else "critical"
    elif verdict.passed:
        title = f"{who} passed {len(verdict.results)} check(s): answered {answered}"
        severity = "info"
    elif dry_run:
        title = (f"{who} would fail {len(verdict.failed)} of {len(verdict.results)} check(s) "
                 f"(dry run: answered {answered})")
        severity = "warning"
    else:
        title = (f"{who} failed {len(verdict.failed)} of {len(verdict.results)} check(s): "
                 f"answered {answered}")
        severity = "critical"
    extra: dict[str, Any] = {"verdict": state.verdict, "answered": state.answered,
                             "subject": state.subject}
    link = console_link(state.request, region)
    if link:
        extra["console"] = link
    if state.error is not None:
        extra["error"] = state.error
    if state.notes:
        extra["notes"] = list(state.notes)
    if verdict is not None:
        extra["rounds"] = verdict.bake.rounds
    return TargetRun(title=title, severity=severity, extra=extra)  # type: ignore[arg-type]


def handle(event: Any, context: Any, config: GuardConfig, clock: Clock,
           factory: SessionFactory | None = None) -> dict[str, Any]:
    """The invocation: read the event, review it on the function's own account and region,
    make sure it is answered, reply with the summary."""
    common = config.common
    state = _read_event(event, "malformed event")
    factory = factory or SessionFactory.shared(common.home_region, common.assume_role_name,
                                               f"opskit-{AUTOMATION}")
    remaining: Callable[[], int] = context.get_remaining_time_in_millis
    # Absolute: the remaining time is read whenever the checks ask, so time spent reading the
    # declaration (or anything else) counts.
    deadline = Deadline(clock, remaining, ANSWER_MARGIN_SECONDS)

    def work(target: Target, executor: Executor) -> TargetRun:
        return review(state, Clients(target.session), config, clock, executor=executor,
                      deadline=deadline, region=target.region)

    summary: dict[str, Any] = {}
    try:
        summary = run_automation(common, work, run_id=context.aws_request_id, factory=factory,
                                 pairs=[(factory.home_account(), common.home_region)],
                                 remaining_ms=remaining)
    finally:
        if state.answered is None:
            _last_resort(state, Clients(factory.base), common.dry_run, clock, remaining)
    reply = {**summary, "verdict": state.verdict, "answered": state.answered,
             **state.subject}
    if state.error is not None:
        reply["error"] = state.error
    return reply


def _read_event(event: Any, what: str) -> Review:
    try:
        return Review(parse_request(event))
    except MalformedEventError as bad:
        logger.error(what, extra={"error": str(bad), "answerable": bad.subject is not None})
        if bad.subject is None:
            raise  # nothing can be answered: the hook or job times out as failed
        return Review(bad.subject, error=str(bad))


def answer_config_error(event: Any, context: Any, error: ConfigError) -> None:
    """The configuration could not be read: answer the hook or job Failed all the same (with a
    plain client in the function's region), so it does not wait for its timeout. The caller
    raises `error` afterwards: the invocation fails visibly."""
    import boto3  # noqa: PLC0415 - only on this rare path

    logger.error("configuration error", extra={"error": str(error)})
    try:
        state = _read_event(event, "malformed event (and a configuration error)")
    except MalformedEventError:
        return
    state.error = f"configuration error: {error}"
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    clients = Clients(boto3.Session(region_name=region))
    remaining: Callable[[], int] = context.get_remaining_time_in_millis
    try:
        state.answered = send_answer(state.request, clients, SystemClock(), remaining, False,
                                     f"deploy_guard is misconfigured: {error}"[:1000])
    except (ClientError, BotoCoreError) as exc:
        logger.error("the hook or job could not be answered", extra={
            "subject": state.subject, "error": f"{type(exc).__name__}: {exc}"})


def _last_resort(state: Review, clients: Clients, dry_run: bool, clock: Clock,
                 remaining_ms: Callable[[], int]) -> None:
    """The answer was not sent (the review failed, or the answer call did): send the verdict
    there is - Succeeded for a pass (and in dry run), the continuation token of a bake that
    goes on, Failed only when there is no verdict or it failed; raise when even that fails."""
    if state.continuation is not None:
        succeeded, message = True, "deploy_guard: baking"
    else:
        state.verdict = state.verdict or "error"
        succeeded = dry_run or state.verdict == "passed"
        message = ("deploy_guard: the checks passed" if state.verdict == "passed"
                   else "deploy_guard could not review this deployment")
    logger.error("answering again after a lost answer", extra={
        "subject": state.subject, "verdict": state.verdict, "succeeded": succeeded})
    try:
        state.answered = send_answer(state.request, clients, clock, remaining_ms, succeeded,
                                     message, continuation_token=state.continuation)
    except ClientError as exc:
        if error_code(exc) in ALREADY_ANSWERED:
            state.answered = ("InProgress" if state.continuation is not None
                              else "Succeeded" if succeeded else "Failed")
            return
        raise AnswerNotSentError(f"{describe(state.request)} could not be answered: {exc}") from exc
    except BotoCoreError as exc:
        raise AnswerNotSentError(f"{describe(state.request)} could not be answered: {exc}") from exc
