"""The stop/start of an instance (a new host after a failed system check): never left down.

The timeline, in seconds from the StopInstances call, within a deadline that is the Lambda's
time left less MARGIN_SECONDS (docs/self_healing.md, Stop/start):
- wait for `stopped` (DescribeInstances every POLL_SECONDS), at most GRACEFUL_STOP_SECONDS, or
  half the time the stop may take when less is left;
- not stopped by then: StopInstances again with Force, and wait until START_RESERVE_SECONDS
  before the deadline;
- stopped, whichever wait saw it: StartInstances, then wait for `running` until the deadline;
- still stopping (or gone): not started, and the result says so.
Anything but `running` at the end is a problem the caller reports as a failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from opskit.actions import error_code
from opskit.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

POLL_SECONDS = 15.0  # as EC2's own waiters poll
GRACEFUL_STOP_SECONDS = 240.0  # a clean shutdown's time; then the stop is forced
START_RESERVE_SECONDS = 60.0  # the stop waits end this long before the deadline: time to start
MARGIN_SECONDS = 30.0  # kept after the deadline for the stamp, the report and the metrics
MIN_BUDGET_SECONDS = 180.0  # less time than this before the deadline: the instance is not stopped
# States an instance does not leave on its way to the one waited for: waiting longer is useless.
GONE = frozenset({"shutting-down", "terminated"})
UNKNOWN = "unknown"  # the state could not be read
# StartInstances answers that may pass: no capacity for the type in the zone right now; an
# instance EC2 does not yet see as stopped.
RETRY_START = frozenset({"InsufficientInstanceCapacity", "IncorrectInstanceState"})


def _advice(state: str) -> str:
    if state == "stopping":
        return "; start it once it has stopped"
    if state in GONE:
        return ""
    return "; it did not stay stopped (started by someone else?): look at it"


class Clock(Protocol):
    """Seconds and pauses for the waits (tests pass a fake one: nothing sleeps)."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class StopStartError(BotoCoreError):
    """The stop/start did not leave the instance running. A BotoCoreError, as the waiter's
    WaiterError is: the executor records it as the action's failure, with this message."""

    fmt = "{problem}"


@dataclass(frozen=True, slots=True)
class Seen:
    """An instance's state at one poll, and EC2's reason for it (a failed start says why)."""

    state: str
    reason: str = ""


@dataclass
class Restart:
    """What one stop/start did: seconds from its StopInstances call, the last state seen, and
    the problem when the instance is not running at the end."""

    instance_id: str
    forced_at: float | None = None
    stopped_at: float | None = None
    started_at: float | None = None
    running_at: float | None = None
    state: str = ""
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        def rounded(value: float | None) -> int | None:
            return None if value is None else round(value)

        return {"instance": self.instance_id, "state": self.state,
                "forced_after_seconds": rounded(self.forced_at),
                "stopped_after_seconds": rounded(self.stopped_at),
                "started_after_seconds": rounded(self.started_at),
                "running_after_seconds": rounded(self.running_at)}


@dataclass
class Restarter:
    """Stops and starts an instance within the invocation's time (`remaining_seconds`: the
    Lambda context's time left)."""

    ec2: EC2Client
    clock: Clock
    remaining_seconds: Callable[[], float]

    def stop_start(self, instance_id: str) -> Restart:
        """Raises StopStartError before any call when there is not time enough, and
        ClientError when the first StopInstances is refused: in both cases nothing changed."""
        begin = self.clock.monotonic()
        deadline = begin + self.remaining_seconds() - MARGIN_SECONDS
        if deadline - begin < MIN_BUDGET_SECONDS:
            raise StopStartError(problem=(
                f"{instance_id} not stopped: {deadline - begin:.0f} s left in this invocation, "
                f"a stop/start needs {MIN_BUDGET_SECONDS:.0f} s"))

        def since() -> float:
            return self.clock.monotonic() - begin

        self.ec2.stop_instances(InstanceIds=[instance_id])
        logger.info("instance stopping", extra={"instance_id": instance_id})
        done = Restart(instance_id)
        stop_until = deadline - START_RESERVE_SECONDS
        seen = self._wait(instance_id, "stopped",
                          begin + min(GRACEFUL_STOP_SECONDS, (stop_until - begin) / 2))
        if seen.state not in {"stopped", *GONE}:
            done.forced_at = since()
            try:
                self.ec2.stop_instances(InstanceIds=[instance_id], Force=True)
                logger.info("stop forced", extra={"instance_id": instance_id,
                                                  "after_seconds": round(done.forced_at)})
            except (ClientError, BotoCoreError) as exc:  # e.g. it stopped meanwhile: polls tell
                logger.warning("forced stop refused", extra={"instance_id": instance_id,
                                                            "error": error_code(exc)})
            seen = self._wait(instance_id, "stopped", stop_until)
        done.state = seen.state
        if seen.state not in {"stopped", UNKNOWN}:  # unknown: the start will tell
            forced = "" if done.forced_at is None else f", forced at {done.forced_at:.0f} s"
            still = "still " if seen.state == "stopping" else ""
            done.problem = (f"{instance_id} is {still}{seen.state} {since():.0f} s after the "
                            f"stop{forced}: not started" + _advice(seen.state))
            return done
        if seen.state == "stopped":
            done.stopped_at = since()
            logger.info("instance stopped", extra={"instance_id": instance_id,
                                                   "after_seconds": round(done.stopped_at)})
        refused = self._start(instance_id, deadline - POLL_SECONDS)
        if refused is not None:
            done.problem = (f"{instance_id} is {seen.state}, not started: StartInstances failed "
                            f"({refused}) {since():.0f} s after the stop; start it by hand")
            return done
        done.started_at = since()
        seen = self._wait(instance_id, "running", deadline, started=True)
        done.state = seen.state
        if seen.state == "running":
            done.running_at = since()
            logger.info("instance running", extra={"instance_id": instance_id,
                                                   "after_seconds": round(done.running_at)})
            return done
        why = f" ({seen.reason})" if seen.reason else ""
        done.problem = (f"{instance_id} is {seen.state}{why}, not running, {since():.0f} s after "
                        f"the stop (started at {done.started_at:.0f} s)")
        return done

    def _start(self, instance_id: str, until: float) -> str | None:
        """StartInstances, tried again every poll while EC2 says it may pass later; the last
        refusal as `code: message`, or None once started."""
        while True:
            try:
                self.ec2.start_instances(InstanceIds=[instance_id])
                return None
            except (ClientError, BotoCoreError) as exc:
                refused = f"{error_code(exc)}: {exc}"
                if error_code(exc) not in RETRY_START or self.clock.monotonic() >= until:
                    return refused
                logger.warning("start refused, trying again", extra={
                    "instance_id": instance_id, "error": error_code(exc)})
                self.clock.sleep(max(0.0, min(POLL_SECONDS, until - self.clock.monotonic())))

    def _wait(self, instance_id: str, wanted: str, until: float, *,
              started: bool = False) -> Seen:
        """Waiter-style: read the state now, then every POLL_SECONDS until it is `wanted`, it
        cannot become so, or `until` passes; the last state seen."""
        polls = 0
        while True:
            seen = self._state(instance_id)
            polls += 1
            if seen.state == wanted or seen.state in GONE:
                return seen
            # After a start, `stopping`, or `stopped` once EC2 has had a poll's time to show the
            # start: the start failed (EC2 says why), it will not come up by waiting.
            if started and (seen.state == "stopping" or (seen.state == "stopped" and polls > 1)):
                return seen
            left = until - self.clock.monotonic()
            if left <= 0:
                return seen
            self.clock.sleep(min(POLL_SECONDS, left))

    def _state(self, instance_id: str) -> Seen:
        try:
            reservations = self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "InvalidInstanceID.NotFound":
                return Seen("terminated")
            # A read that fails must not end the stop/start half way: the next poll may pass.
            logger.warning("instance state not read", extra={"instance_id": instance_id,
                                                             "error": error_code(exc)})
            return Seen(UNKNOWN, f"{error_code(exc)}: {exc}")
        for reservation in reservations:
            for instance in reservation.get("Instances", []):
                return Seen(instance["State"]["Name"],
                            str(instance.get("StateReason", {}).get("Message", "")))
        return Seen("terminated")  # no longer listed
