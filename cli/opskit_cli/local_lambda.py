"""Running a handler on this machine the way Lambda runs it: the function's environment, a
Lambda context with a deadline, a new container each time, logs kept off standard output."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from unittest.mock import patch

# The variables the Lambda runtime sets that a shell must not override (and the profile the CLI
# chooses itself): the function sees the template's environment, not the shell's.
_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_SECURITY_TOKEN")


@dataclass
class FakeLambdaContext:
    """What the Lambda runtime passes as `context`, with a clock that runs out at the timeout."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local/[$LATEST]opskit-cli"
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed_ms = int((time.monotonic() - self.started) * 1000)
        return max(0, self.timeout_seconds * 1000 - elapsed_ms)


def lambda_context(automation: str, *, region: str, account: str, timeout_seconds: int,
                   memory_mb: int) -> FakeLambdaContext:
    name = f"opskit-{automation.replace('_', '-')}"
    return FakeLambdaContext(
        function_name=name, memory_limit_in_mb=memory_mb, timeout_seconds=timeout_seconds,
        invoked_function_arn=f"arn:aws:lambda:{region}:{account}:function:{name}")


@contextlib.contextmanager
def environment(values: Mapping[str, str | None], *, profile: str | None = None
                ) -> Iterator[None]:
    """`values` set (None: unset) for the block, and the shell's environment back after it.
    With `profile`, the shell's own keys are set aside so that the profile's are used."""
    changes: dict[str, str | None] = dict(values)
    if profile is not None:
        changes.update(dict.fromkeys(_CREDENTIALS))
        changes["AWS_PROFILE"] = profile
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def new_container() -> Iterator[None]:
    """Sessions and clients as in a cold container, and none left behind for the next run."""
    # The layer is imported only once the function's environment is set, as on Lambda (its
    # loggers take their service name from it).
    from opskit import aws  # noqa: PLC0415
    from opskit.observability import metrics  # noqa: PLC0415

    aws.forget()
    try:
        yield
    finally:
        aws.forget()
        metrics.clear_metrics()  # flushed by the handler; the dimensions go with the container


@contextlib.contextmanager
def logs_to(stream: IO[str]) -> Iterator[None]:
    """The handler's structured logs and metrics (standard output on Lambda) to `stream`:
    standard output is the command's answer. Powertools' handlers hold the stream they were
    made with, so each is pointed elsewhere for the block."""
    moved: list[tuple[logging.StreamHandler[Any], IO[str]]] = []
    loggers = [logging.getLogger(), *(item for item in logging.Logger.manager.loggerDict.values()
                                      if isinstance(item, logging.Logger))]
    for logger in loggers:
        for handler in logger.handlers:
            if (isinstance(handler, logging.StreamHandler)
                    and not isinstance(handler, logging.FileHandler)
                    and handler.stream is not sys.stderr and handler.stream is not stream):
                # Not setStream: it flushes the old stream, which may be closed (a handler
                # made under a test's captured output).
                moved.append((handler, handler.stream))
                handler.stream = stream
    try:
        with contextlib.redirect_stdout(stream), warnings.catch_warnings():  # metrics: printed
            # A run that changed nothing has no metric to publish: not worth a warning here.
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            yield
    finally:
        for handler, previous in moved:
            handler.stream = previous


@contextlib.contextmanager
def captured_reports(on_report: Callable[[dict[str, Any]], None] | None = None
                     ) -> Iterator[list[dict[str, Any]]]:
    """Every report the run builds (one per target, a failed target's included), as published:
    the CLI runs with no alert topic, so this is where the reports are read."""
    from opskit import runner  # noqa: PLC0415 - see new_container

    built: list[dict[str, Any]] = []
    build = vars(runner)["build_report"]  # the name the runner calls (from opskit.notify)

    def keep(*args: Any, **kwargs: Any) -> Any:
        report = build(*args, **kwargs)
        built.append(report.to_dict())
        if on_report is not None:
            on_report(built[-1])
        return report

    with patch.object(runner, "build_report", keep):
        yield built
