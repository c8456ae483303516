"""The one way automations change things: exemption, dry-run, batching, bisecting, idempotence."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from opskit.tags import is_exempt


class Status(StrEnum):
    DONE = "done"
    PLANNED = "planned"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Action:
    """A change an automation wants: what, to which resource, and why."""

    resource: str
    resource_type: str
    action: str
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)
    # The resource's tags, so the executor can honour the exemption tag for every automation.
    tags: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    # What the change's call needs, as the automation's own typed value (a frozen dataclass).
    # It is not reported: `details` say what the report shows, `params` what the call sends.
    params: object = field(default=None, repr=False)

    def params_as[P](self, kind: type[P]) -> P:
        """The call's parameters, checked to be the type the actuator expects."""
        if not isinstance(self.params, kind):
            raise TypeError(f"action {self.action!r} on {self.resource!r} carries "
                            f"{type(self.params).__name__} parameters, expected {kind.__name__}")
        return self.params


@dataclass(frozen=True, slots=True)
class Outcome:
    action: Action
    status: Status
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        details = dict(self.action.details)
        if self.note:
            details["note"] = self.note
        return {
            "resource": self.action.resource,
            "resource_type": self.action.resource_type,
            "action": self.action.action,
            "status": str(self.status),
            "reason": self.action.reason,
            "details": details,
        }


Apply = Callable[[Sequence[Action]], None]
OUT_OF_TIME = "out of time: left for the next run"
Recorder = Callable[[Outcome], None]


def chunks[T](items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    if size < 1:
        raise ValueError(f"size={size!r} is invalid: expected a positive batch size")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Unknown"))
    return type(exc).__name__


@dataclass
class Executor:
    """Applies planned actions and records an outcome for each.

    - exemption tag: the action is skipped, whatever mode;
    - dry-run: the action is recorded as planned and `apply` is never called;
    - batches of `batch_size` go to one `apply` call; a failing batch is bisected so only the
      resources that really fail are marked failed (and good ones still change);
    - an error whose code is in `idempotent_errors` means "already in that state": success.
    """

    dry_run: bool
    exemption_tag_key: str
    recorder: Recorder | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    # True once the invocation is too close to its deadline to start another write: what is
    # left is recorded as skipped ("out of time"), to be done by the next run.
    out_of_time: Callable[[], bool] | None = None

    def _record(self, outcome: Outcome) -> Outcome:
        self.outcomes.append(outcome)
        if self.recorder is not None:
            self.recorder(outcome)
        return outcome

    def exemption(self, tags: Mapping[str, str], where: str = "") -> str | None:
        """The one exemption check of every automation: the skip note when `tags` carry the
        exemption tag with a true value (`where` says whose tags: "group", "rule"...), else
        None. `run` applies it to every action; an automation calls it for what it refuses
        before there is an action to run (a report-only finding, a heal, a rotation step)."""
        if not is_exempt(tags, self.exemption_tag_key):
            return None
        return f"exempt: {where + ' ' if where else ''}tagged {self.exemption_tag_key}"

    def skip(self, action: Action, note: str) -> Outcome:
        """Record an action the automation decided not to take (it appears in the report)."""
        return self._record(Outcome(action, Status.SKIPPED, note))

    def fail(self, action: Action, note: str) -> Outcome:
        """Record a problem found while planning (bad tag, unsafe state) as a failed action."""
        return self._record(Outcome(action, Status.FAILED, note))

    def run(
        self,
        actions: Sequence[Action],
        apply: Apply,
        *,
        batch_size: int = 1,
        idempotent_errors: Collection[str] = (),
    ) -> list[Outcome]:
        start = len(self.outcomes)
        eligible: list[Action] = []
        for action in actions:
            exempt = self.exemption(action.tags)
            if exempt is not None:
                self.skip(action, exempt)
            else:
                eligible.append(action)
        if self.dry_run:
            for action in eligible:
                self._record(Outcome(action, Status.PLANNED))
        else:
            for batch in chunks(eligible, batch_size):
                if self.out_of_time is not None and self.out_of_time():
                    for action in batch:
                        self.skip(action, OUT_OF_TIME)
                    continue
                self._apply(batch, apply, idempotent_errors)
        return self.outcomes[start:]

    def _apply(self, batch: Sequence[Action], apply: Apply, idempotent: Collection[str]) -> None:
        try:
            apply(batch)
        except (ClientError, BotoCoreError) as exc:
            if len(batch) > 1:
                middle = len(batch) // 2
                self._apply(batch[:middle], apply, idempotent)
                self._apply(batch[middle:], apply, idempotent)
                return
            code = error_code(exc)
            if code in idempotent:
                self._record(Outcome(batch[0], Status.DONE, f"already done ({code})"))
            else:
                self._record(Outcome(batch[0], Status.FAILED, f"{code}: {exc}"))
            return
        for action in batch:
            self._record(Outcome(action, Status.DONE))

    def counts(self) -> dict[str, int]:
        return count_outcomes(self.outcomes)


@dataclass
class Plan:
    """What an automation's pure planning decided: actions to run, and actions it already knows
    to skip or to fail (with why), plus notes a person should read."""

    actions: list[Action] = field(default_factory=list)
    skipped: list[tuple[Action, str]] = field(default_factory=list)
    # Reported as failed: a bad tag or setting, a state that needs a person.
    failed: list[tuple[Action, str]] = field(default_factory=list)
    # Reported as failed, and the report is critical: something is lost unless a person acts.
    critical: list[tuple[Action, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, action: Action, skip: str | None = None) -> None:
        if skip is None:
            self.actions.append(action)
        else:
            self.skipped.append((action, skip))

    def extend(self, other: Plan) -> None:
        self.actions.extend(other.actions)
        self.skipped.extend(other.skipped)
        self.failed.extend(other.failed)
        self.critical.extend(other.critical)
        self.notes.extend(other.notes)

    def record(self, executor: Executor) -> None:
        """Hand the decided skips and failures to the executor (they call no AWS API)."""
        for action, why in self.critical:
            executor.fail(action, why)
        for action, why in self.failed:
            executor.fail(action, why)
        for action, why in self.skipped:
            executor.skip(action, why)


def count_outcomes(outcomes: Sequence[Outcome]) -> dict[str, int]:
    counts = {str(status): 0 for status in Status}
    for outcome in outcomes:
        counts[str(outcome.status)] += 1
    return counts


def resources(batch: Sequence[Action]) -> list[str]:
    return [action.resource for action in batch]


__all__ = [
    "OUT_OF_TIME",
    "Action",
    "Apply",
    "Executor",
    "Outcome",
    "Plan",
    "Status",
    "chunks",
    "count_outcomes",
    "error_code",
    "resources",
]
