"""Warm runs: the instance scheduler's Lambda handler against a minimal scheduler, on moto.

For each N, a fresh moto account holds N running EC2 instances tagged
`Schedule=mon-fri 08:00-19:00 UTC`; every run happens on Saturday at noon, so it must stop all
N (checked after each run; then the instances are restarted and the scheduler's last-action tag
removed, outside the timing, so that the next run has the same work to do).

*opskit* is the real handler, called the way Lambda calls it: `instance_scheduler.app.
lambda_handler(event, context)` with an EventBridge Scheduler event shaped like
events/instance_scheduler/scheduler-run.json and a fake Lambda context. *reference* is the least a
scheduler can do: one EC2 client created once per process, DescribeInstances paginated with a
tag-key and a state filter, then StopInstances in batches of STOP_BATCH. It does not read the
schedule (it knows every instance must stop) nor look at Auto Scaling or RDS: it is a floor, not
a competitor.

Everything is measured in a child process started afresh (`python -m bench.warm_runs --measure
FILE`), so that no client, session or credential cached by an earlier benchmark of `make bench`
can be reused, and so that the handler's first invocation there is the process's first:

- the *cold* run is that first invocation (at the first N only, once per process), after the
  handler module was imported (its import time is reported apart; `bench/cold_start.py`
  measures imports on the built artifact). The client that seeds moto was created before it, so
  botocore's first-use imports are not in it, as they would be on Lambda;
- *warm* runs come after, WARM_RUNS at each N, alternating with as many reference runs (the
  reference's own first run, which creates its client, is discarded); each figure is the median;
- during each run, `botocore.session.Session.create_client` is wrapped with a timer (the time
  spent creating clients, and how many) and `Session.__init__` with a counter (how many botocore
  sessions were created); AWS calls are counted by a botocore `before-call` hook (retries not
  counted);
- finally, with two accounts and two regions as targets, the handler runs ASSUME_RUNS times in a
  row and the sts:AssumeRole calls of each run are counted: a run that caches assumed-role
  credentials across warm invocations makes one call in its first run and none after.

Wall times are moto's (in process), not real AWS's; no figure is asserted, only correctness.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import boto3
import botocore.handlers
import botocore.session
import time_machine
from moto import mock_aws

from bench._summary import record
from bench.instance_scheduler import (
    DESCRIBE_PAGE,
    REGION,
    SATURDAY_NOON,
    SCHEDULE,
    STOP_BATCH,
    CallCounter,
    _expect,
    _prepare_environment,
    _restart_all,
    _seed,
)

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

ROOT = Path(__file__).resolve().parent.parent
SIZES = (50, 200, 1000)
WARM_RUNS = 3
SCHEDULE_TAG_KEY = "Schedule"
HOME_ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111111111111"
ROLE_NAME = "OpskitExecutionRole"  # ASSUME_ROLE_NAME's default
MULTI_TARGET = {"TARGET_ACCOUNTS": f"{HOME_ACCOUNT},{OTHER_ACCOUNT}",
                "TARGET_REGIONS": "eu-west-1,us-east-1"}
ASSUME_RUNS = 4
ASSUME_N = 10  # instances in the home account's eu-west-1, so that each run has work to do
SAMPLE_EVENT = ROOT / "events" / "instance_scheduler" / "scheduler-run.json"
CHILD_TIMEOUT_S = 900
ASSUME_ROLE = "sts:AssumeRole"

type Handler = Callable[[Any, Any], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Run:
    """What one timed run cost."""

    seconds: float
    client_seconds: float  # inside botocore Session.create_client
    clients: int  # clients created
    sessions: int  # botocore sessions created
    calls: dict[str, int]  # "service:Operation" -> logical calls

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def client_share(self) -> float:
        return self.client_seconds / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class Size:
    n: int
    reference: list[Run]
    opskit: list[Run]


@dataclass(frozen=True, slots=True)
class Results:
    import_seconds: float  # `import instance_scheduler.app` in the child
    cold: Run  # the process's first invocation, at SIZES[0]
    sizes: list[Size]
    assume_runs: list[Run]  # ASSUME_RUNS invocations over MULTI_TARGET


@dataclass
class FakeLambdaContext:
    """What the handler and Powertools read of Lambda's context object."""

    aws_request_id: str
    function_name: str = "opskit-instance-scheduler"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:"
                                 "opskit-instance-scheduler")
    log_group_name: str = "/aws/lambda/opskit-instance-scheduler"
    log_stream_name: str = "2026/11/21/[$LATEST]bench"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _scheduled_event() -> dict[str, Any]:
    """The sample EventBridge Scheduler event, with a fresh id and the run's time (the handler
    refuses an event dated more than a few minutes after its clock)."""
    event: dict[str, Any] = json.loads(SAMPLE_EVENT.read_text())
    event["id"] = str(uuid.uuid4())
    event["time"] = SATURDAY_NOON.strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


class Probe:
    """The instruments of one run: AWS calls, client creation time and count, sessions created.

    They only count while `active`, i.e. inside `timed`; `installed` puts them in place (before
    the handler is imported, so that even a session created at import carries the call hook)
    and takes them out afterwards.
    """

    def __init__(self) -> None:
        self.calls = CallCounter()
        self.client_seconds = 0.0
        self.clients = 0
        self.sessions = 0
        self._depth = 0  # create_client inside create_client counts once

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        session_class = botocore.session.Session
        original_create = session_class.create_client
        original_init = session_class.__init__

        def create_client(session: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
            if not self.calls.active:
                return original_create(session, *args, **kwargs)
            self._depth += 1
            started = time.perf_counter()
            try:
                return original_create(session, *args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self.client_seconds += time.perf_counter() - started
                    self.clients += 1

        def init(session: botocore.session.Session, *args: Any, **kwargs: Any) -> None:
            if self.calls.active:
                self.sessions += 1
            original_init(session, *args, **kwargs)

        botocore.handlers.BUILTIN_HANDLERS.extend(self.calls.handlers)
        try:
            with (mock.patch.object(session_class, "create_client", create_client),
                  mock.patch.object(session_class, "__init__", init)):
                yield
        finally:
            for handler in self.calls.handlers:
                botocore.handlers.BUILTIN_HANDLERS.remove(handler)

    def timed[T](self, action: Callable[[], T]) -> tuple[T, Run]:
        """`action()` at SATURDAY_NOON (frozen), its stdout (Powertools' log and EMF lines)
        discarded, and what it cost."""
        with time_machine.travel(SATURDAY_NOON, tick=False):
            gc.collect()
            self.calls.reset()
            self.client_seconds, self.clients, self.sessions = 0.0, 0, 0
            self.calls.active = True
            started = time.perf_counter()
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    result = action()
            finally:
                seconds = time.perf_counter() - started
                self.calls.active = False
        calls = {f"{service}:{operation}": n
                 for (service, operation), n in sorted(self.calls.counts.items())}
        return result, Run(seconds, self.client_seconds, self.clients, self.sessions, calls)


@functools.cache
def _reference_client() -> EC2Client:
    """The reference's one EC2 client, created at its first run and kept for the process."""
    return boto3.client("ec2", region_name=REGION)


def reference_scheduler() -> int:
    """The minimal scheduler: every running instance carrying the schedule tag is stopped.
    Returns how many it stopped."""
    ec2 = _reference_client()
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "tag-key", "Values": [SCHEDULE_TAG_KEY]},
                 {"Name": "instance-state-name", "Values": ["running"]}],
        PaginationConfig={"PageSize": DESCRIBE_PAGE})
    ids = [instance["InstanceId"] for page in pages for reservation in page["Reservations"]
           for instance in reservation["Instances"]]
    for start in range(0, len(ids), STOP_BATCH):
        ec2.stop_instances(InstanceIds=ids[start:start + STOP_BATCH])
    return len(ids)


def _reset(ec2: EC2Client, n: int) -> None:
    """After a run that stopped all n instances: all running again, with no trace of the run
    (the scheduler's last-action tag removed), as before the first run."""
    _expect(ec2, "stopped", n)
    _restart_all(ec2)
    _expect(ec2, "running", n)


def _run_reference(probe: Probe, ec2: EC2Client, n: int) -> Run:
    stopped, run = probe.timed(reference_scheduler)
    assert stopped == n, f"the reference stopped {stopped} of {n} instances"
    _reset(ec2, n)
    return run


def _run_handler(probe: Probe, handler: Handler, ec2: EC2Client, n: int) -> Run:
    """One invocation as Lambda makes it; all n instances must be stopped, no target failed."""
    event, context = _scheduled_event(), FakeLambdaContext(aws_request_id=str(uuid.uuid4()))
    summary, run = probe.timed(lambda: handler(event, context))
    assert summary["failed_targets"] == [], summary["failed_targets"]
    assert summary["counts"]["done"] == n, summary["counts"]
    _reset(ec2, n)
    return run


def _seeded(n: int) -> EC2Client:
    """Inside mock_aws: a client on the home account and region, with n running instances."""
    ec2 = boto3.client("ec2", region_name=REGION)
    _seed(ec2, n)
    _expect(ec2, "running", n)
    return ec2


def _assume_role_runs(probe: Probe, handler: Handler) -> list[Run]:
    """ASSUME_RUNS invocations in a row over two accounts and two regions (one moto account)."""
    os.environ.update(MULTI_TARGET)
    try:
        with mock_aws():
            boto3.client("iam", region_name=REGION).create_role(
                RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                   "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"}}]}))
            ec2 = _seeded(ASSUME_N)
            return [_run_handler(probe, handler, ec2, ASSUME_N) for _ in range(ASSUME_RUNS)]
    finally:
        for name in MULTI_TARGET:
            os.environ.pop(name, None)


def measure() -> Results:
    """The whole measure; run it in a fresh process (see the module's docstring)."""
    _prepare_environment()
    warnings.simplefilter("ignore")  # Powertools' warnings between runs
    probe = Probe()
    sizes: list[Size] = []
    cold: Run | None = None
    with probe.installed():
        started = time.perf_counter()
        from instance_scheduler.app import lambda_handler

        import_seconds = time.perf_counter() - started
        for n in SIZES:
            started = time.perf_counter()
            with mock_aws():
                ec2 = _seeded(n)
                if cold is None:
                    cold = _run_handler(probe, lambda_handler, ec2, n)
                    _run_reference(probe, ec2, n)  # creates the reference's client: discarded
                reference: list[Run] = []
                opskit: list[Run] = []
                for _ in range(WARM_RUNS):
                    reference.append(_run_reference(probe, ec2, n))
                    opskit.append(_run_handler(probe, lambda_handler, ec2, n))
            sizes.append(Size(n, reference, opskit))
            print(f"  N={n}: reference {_median(reference):.2f} s, opskit "
                  f"{_median(opskit):.2f} s (with seeding {time.perf_counter() - started:.1f} s)",
                  flush=True)
        assume_runs = _assume_role_runs(probe, lambda_handler)
    assert cold is not None
    return Results(import_seconds, cold, sizes, assume_runs)


def _run_of(raw: dict[str, Any]) -> Run:
    return Run(**raw)


def load(path: Path) -> Results:
    raw: dict[str, Any] = json.loads(path.read_text())
    return Results(
        import_seconds=raw["import_seconds"],
        cold=_run_of(raw["cold"]),
        sizes=[Size(s["n"], [_run_of(r) for r in s["reference"]],
                    [_run_of(r) for r in s["opskit"]]) for s in raw["sizes"]],
        assume_runs=[_run_of(r) for r in raw["assume_runs"]],
    )


def _median(runs: list[Run], value: Callable[[Run], float] = lambda run: run.seconds) -> float:
    return statistics.median(value(run) for run in runs)


def _spread(values: list[int]) -> str:
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"


def _per_run(runs: list[Run], value: Callable[[Run], object]) -> str:
    return ", ".join(str(value(run)) for run in runs)


def _operations(run: Run) -> str:
    return ", ".join(f"{operation} x{n}" for operation, n in run.calls.items()) or "none"


def report(results: Results) -> str:
    lines = [
        "## Warm runs: instance scheduler against a minimal reference",
        "",
        f"Each N: a fresh moto account, N running EC2 instances tagged `Schedule={SCHEDULE}`, "
        f"runs at {SATURDAY_NOON:%A %Y-%m-%d %H:%M} UTC (frozen), `DRY_RUN=false`, every run "
        "checked to stop all N (between runs, outside the timing, instances restarted and the "
        "scheduler's last-action tag removed). *opskit*: "
        "`instance_scheduler.app.lambda_handler(event, context)` with a scheduler event and a "
        "fake Lambda context, default settings (EC2, Auto Scaling and RDS). *reference*: one EC2 "
        "client created once per process, DescribeInstances (tag-key and state filters, "
        f"paginated) then StopInstances by {STOP_BATCH}. Median of {WARM_RUNS} warm runs each, "
        "the two alternating, in a fresh process. *client creation*: time inside botocore's "
        "`Session.create_client` during an opskit warm run (median), and its share of the run. "
        "*AWS calls*: logical calls of one warm run (botocore `before-call` hook), opskit "
        "(reference). Wall times are moto's, not real AWS's.",
        "",
        "| N | reference warm (s) | opskit warm (s) | ratio | client creation (s) "
        "| client creation share | AWS calls |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in results.sizes:
        reference, opskit = _median(size.reference), _median(size.opskit)
        lines.append(
            f"| {size.n} | {reference:.3f} | {opskit:.3f} | {opskit / reference:.2f}x "
            f"| {_median(size.opskit, lambda run: run.client_seconds):.3f} "
            f"| {_median(size.opskit, lambda run: run.client_share):.1%} "
            f"| {_spread([run.total_calls for run in size.opskit])} "
            f"({_spread([run.total_calls for run in size.reference])}) |")
    first = results.sizes[0]
    cold = results.cold
    warm_first = _median(first.opskit)
    clients = "; ".join(f"N={size.n}: {_spread([run.clients for run in size.opskit])} clients, "
                        f"{_spread([run.sessions for run in size.opskit])} sessions"
                        for size in results.sizes)
    assume = results.assume_runs
    assume_calls = _per_run(assume, lambda run: run.calls.get(ASSUME_ROLE, 0))
    largest = results.sizes[-1]
    lines += [
        "",
        f"AWS calls of the last warm run at N={largest.n}: opskit "
        f"{_operations(largest.opskit[-1])}; reference {_operations(largest.reference[-1])} "
        "(moto pages DescribeInstances by reservation: seeding puts up to 500 instances in "
        "each).",
        "",
        f"Clients and botocore sessions created per opskit warm run: {clients}. "
        f"The reference creates none after its first run.",
        "",
        f"Cold run, measured once: the process's first invocation of the handler (N={first.n}), "
        f"after `import instance_scheduler.app` ({results.import_seconds:.2f} s, not included; "
        "the built artifact's import times are in the cold-start section): "
        f"{cold.seconds:.3f} s against {warm_first:.3f} s warm "
        f"({cold.seconds / warm_first:.2f}x), {cold.client_seconds:.3f} s "
        f"({cold.client_share:.1%}) in client creation, {cold.clients} clients and "
        f"{cold.sessions} botocore sessions created, {cold.total_calls} AWS calls "
        f"({_operations(cold)}). Only the "
        "handler's first invocation is cold; botocore's first-use imports were already paid by "
        "the client that seeded moto.",
        "",
        f"Targets {MULTI_TARGET['TARGET_ACCOUNTS'].replace(',', ' and ')} x "
        f"{MULTI_TARGET['TARGET_REGIONS'].replace(',', ' and ')} ({ROLE_NAME} assumed in "
        f"{OTHER_ACCOUNT}), {ASSUME_RUNS} invocations in a row in the same process "
        f"({ASSUME_N} instances to stop in {HOME_ACCOUNT}/{REGION} each time): sts:AssumeRole "
        f"calls per run: {assume_calls}; botocore sessions created per run: "
        f"{_per_run(assume, lambda run: run.sessions)}; clients created per run: "
        f"{_per_run(assume, lambda run: run.clients)}; client creation per run (s): "
        f"{_per_run(assume, lambda run: f'{run.client_seconds:.3f}')}; AWS calls per run: "
        f"{_per_run(assume, lambda run: run.total_calls)}.",
    ]
    ratio = _median(largest.opskit) / _median(largest.reference)
    share = _median(largest.opskit, lambda run: run.client_share)
    record(f"instance_scheduler warm run vs a minimal reference, N = {largest.n:,}",
           f"{ratio:.2f}x", "1.5x")
    record(f"Client creation in a warm run, N = {largest.n:,}", f"{share:.1%}", "under 5%")
    record(f"AssumeRole calls per warm run (2 accounts x 2 regions, {ASSUME_RUNS} runs)",
           assume_calls, "0 after the first")
    return "\n".join(lines) + "\n"


def main() -> str:
    with tempfile.TemporaryDirectory(prefix="opskit-warm-runs-") as folder:
        output = Path(folder) / "results.json"
        subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.warm_runs", "--measure", str(output)],
            cwd=ROOT, check=True, timeout=CHILD_TIMEOUT_S)
        results = load(output)
    return report(results)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"] and len(sys.argv) == 3:
        Path(sys.argv[2]).write_text(json.dumps(asdict(measure())))
    else:
        print(main())
