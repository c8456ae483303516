"""A fake clock, and moto instances that stop and start on it as a script says.

moto stops and starts an instance at once. Here a stop leaves it `stopping` until the script's
seconds have passed on the fake clock (a forced stop has seconds of its own), and a start leaves
it `pending` until then; `None` seconds never end. The waits sleep on the fake clock: nothing
sleeps for real.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.instances import Instance, StateReason
from moto.ec2.responses.instances import InstanceResponse

CODES = {"pending": 0, "running": 16, "stopping": 64, "stopped": 80}


@dataclass
class FakeClock:
    """Seconds from 0; `sleep` moves time on and applies the changes that fall due."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)
    due: list[tuple[float, Callable[[], None]]] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds
        for when, change in sorted((d for d in self.due if d[0] <= self.now),
                                   key=lambda d: d[0]):
            self.due.remove((when, change))
            change()

    def at(self, seconds: float | None, change: Callable[[], None]) -> None:
        if seconds is not None:
            self.due.append((self.now + seconds, change))


@dataclass
class Script:
    stop_seconds: float | None = 0.0  # a stop: `stopped` after this
    forced_stop_seconds: float | None = 0.0  # a forced stop: `stopped` after this
    start_seconds: float | None = 0.0  # a start: `running` after this
    start_refusals: int = 0  # the first starts refused: no capacity


@dataclass
class Timeline:
    clock: FakeClock
    script: Script = field(default_factory=Script)
    stops: list[tuple[float, bool]] = field(default_factory=list)  # (when, forced)
    starts: list[float] = field(default_factory=list)
    refused_starts: list[float] = field(default_factory=list)
    forcing: bool = False


def _set(instance: Instance, state: str, reason: str = "") -> None:
    instance._state.name = state
    instance._state.code = CODES[state]
    if reason:
        instance.state_reason = StateReason(reason, "Client.UserInitiatedShutdown")


def _when(instance: Instance, state: str, then: str) -> Callable[[], None]:
    def change() -> None:
        if instance._state.name == state:
            _set(instance, then)
    return change


@contextmanager
def scripted(timeline: Timeline) -> Iterator[Timeline]:
    clock = timeline.clock
    stop_instances = InstanceResponse.stop_instances

    def stop_request(self: InstanceResponse) -> Any:
        timeline.forcing = bool(self._get_bool_param("Force", False))
        return stop_instances(self)

    def stop(instance: Instance) -> Any:
        previous = copy.copy(instance._state)
        timeline.stops.append((clock.now, timeline.forcing))
        if instance._state.name in {"running", "pending", "stopping"}:
            _set(instance, "stopping", "Client.UserInitiatedShutdown: User initiated shutdown")
            script = timeline.script  # as the test set it, when the call is made
            clock.at(script.forced_stop_seconds if timeline.forcing else script.stop_seconds,
                     _when(instance, "stopping", "stopped"))
        return previous

    def start(instance: Instance) -> Any:
        if len(timeline.refused_starts) < timeline.script.start_refusals:
            timeline.refused_starts.append(clock.now)
            raise EC2ClientError("InsufficientInstanceCapacity",
                                 "We currently do not have sufficient capacity.")
        previous = copy.copy(instance._state)
        timeline.starts.append(clock.now)
        _set(instance, "pending")
        instance.state_reason = StateReason()
        clock.at(timeline.script.start_seconds, _when(instance, "pending", "running"))
        return previous

    with patch.object(InstanceResponse, "stop_instances", stop_request), \
            patch.object(Instance, "stop", stop), patch.object(Instance, "start", start):
        yield timeline
