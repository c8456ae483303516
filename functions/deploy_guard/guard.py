"""The verdict: rounds of checks within a time budget, and a bake period that may span several
pipeline invocations through continuation tokens."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from deploy_guard.checks import (
    CheckResult,
    Clock,
    Deadline,
    HttpProbe,
    run_alarms,
    run_metric,
)
from deploy_guard.spec import AlarmCheck, Check, HttpCheck, MetricCheck, Spec

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

TOKEN_VERSION = 2


class TokenError(ValueError):
    """The continuation token is not one this function gave."""


class OutOfTimeError(ValueError):
    """A hook's bake could not finish within the function's time: never a pass."""


@dataclass(frozen=True, slots=True)
class Bake:
    """Where a pipeline's bake period stands: carried in the continuation token."""

    started: int  # epoch seconds of the first round
    rounds: int

    def to_token(self, job_id: str) -> str:
        """The token for `job_id` (CodePipeline hands it back only to that job; the review
        checks with GetJobDetails that the job really holds it)."""
        return json.dumps({"v": TOKEN_VERSION, "job": job_id, "started": self.started,
                           "rounds": self.rounds}, separators=(",", ":"))

    @classmethod
    def from_token(cls, token: str, now: float, max_bake_seconds: int, job_id: str) -> Bake:
        try:
            raw = json.loads(token)
        except ValueError:
            raise TokenError("the continuation token is not JSON") from None
        if not isinstance(raw, dict) or raw.get("v") != TOKEN_VERSION:
            raise TokenError("the continuation token is not this function's")
        if raw.get("job") != job_id:
            raise TokenError("the continuation token was given to another job")
        started, rounds = raw.get("started"), raw.get("rounds")
        if (isinstance(started, bool) or not isinstance(started, int)
                or isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1):
            raise TokenError("the continuation token is not this function's")
        # A token from the future, or older than any bake allows, was not made for this job.
        if started > now + 300 or now - started > max_bake_seconds + 3600:
            raise TokenError(f"the continuation token's bake started at {started}, "
                             f"which no bake of this job can have")
        return cls(started, rounds)


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    finished: bool  # False: the bake goes on (a pipeline answers with `bake`'s token)
    results: tuple[CheckResult, ...]
    bake: Bake
    note: str | None = None

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.passed)


@dataclass
class Checker:
    """Runs one round of checks with the clients and the probe it was given."""

    cloudwatch: Callable[[], CloudWatchClient]
    probe: HttpProbe
    clock: Clock
    deadline: Deadline

    def round(self, spec: Spec) -> tuple[CheckResult, ...]:
        """Every check once, each within the deadline as it stands when the check starts."""
        return tuple(self._one(check) for check in spec.checks)

    def _one(self, check: Check) -> CheckResult:
        try:
            if isinstance(check, HttpCheck):
                return self.probe.run(check, self.deadline.at())
            now = datetime.fromtimestamp(self.clock.time(), UTC)
            if isinstance(check, AlarmCheck):
                return run_alarms(self.cloudwatch(), check, self.deadline.left)
            if isinstance(check, MetricCheck):
                return run_metric(self.cloudwatch(), check, now, self.deadline.left)
        except (ClientError, BotoCoreError) as exc:  # the check could not look: not a pass
            return CheckResult(check, False, f"could not check: {type(exc).__name__}: "
                               f"{str(exc)[:300]}", {"error": type(exc).__name__})
        raise TypeError(f"unknown check {check!r}")  # pragma: no cover - spec.py makes them


def _rounds(spec: Spec, checker: Checker, bake: Bake, *, watch_until: float) -> Verdict:
    """Rounds from `bake` on: stops at the first failing round, at the end of the bake, or when
    the next round would start after `watch_until` (epoch seconds) or the deadline - then
    unfinished."""
    clock = checker.clock
    while True:
        results = checker.round(spec)
        bake = Bake(bake.started, bake.rounds + 1)
        if not all(r.passed for r in results):
            return Verdict(False, True, results, bake)
        now = clock.time()
        bake_end = bake.started + spec.bake_seconds
        if now >= bake_end:
            return Verdict(True, True, results, bake)
        pause = min(spec.interval_seconds, bake_end - now)
        if now + pause > watch_until or pause >= checker.deadline.left():
            return Verdict(True, False, results, bake)
        clock.sleep(pause)


def guard_hook(spec: Spec, checker: Checker) -> Verdict:
    """A CodeDeploy hook's verdict, within the checker's deadline. A bake that cannot finish
    in time is an error (OutOfTimeError), never a pass; review refuses a bake longer than the
    time left before the first round."""
    clock = checker.clock
    start = clock.time()
    verdict = _rounds(spec, checker, Bake(int(start), 0), watch_until=float("inf"))
    if verdict.finished:
        return verdict
    watched = round(clock.time() - start)
    raise OutOfTimeError(f"the bake could not finish: {watched} s of {spec.bake_seconds} s "
                         "watched when the function's time ran out (raise its timeout or "
                         "shorten bake_seconds)")


def guard_job(spec: Spec, checker: Checker, token: str | None, *, job_id: str,
              wait_seconds: float, max_bake_seconds: int) -> Verdict:
    """A pipeline job's verdict, or the bake's next token: no invocation watches longer than
    `wait_seconds` (nor past the checker's deadline). `token` must already be known to be the
    job's own (review checks it with GetJobDetails)."""
    clock = checker.clock
    now = clock.time()
    bake = (Bake(int(now), 0) if token is None
            else Bake.from_token(token, now, max_bake_seconds, job_id))
    return _rounds(spec, checker, bake, watch_until=now + wait_seconds)
