"""Instance scheduler at scale: AWS calls, wall time and peak memory to stop N EC2 instances.

Every instance carries `Schedule=mon-fri 08:00-19:00 UTC` and runs on a Saturday at noon, so one
run must stop all of them. Seeding is excluded from the measures.
"""

from __future__ import annotations

import contextlib
import gc
import io
import math
import os
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import time_machine
from moto import mock_aws

from bench._summary import record

if TYPE_CHECKING:
    from botocore.model import OperationModel
    from mypy_boto3_ec2 import EC2Client

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-1"
SIZES = (100, 200, 1000, 5000)
WARM_UP_N = 10  # a first, discarded run takes the one-time imports out of the first row
SCHEDULE = "mon-fri 08:00-19:00 UTC"
SATURDAY_NOON = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # outside the schedule
SEED_CHUNK = 500  # instances per RunInstances call while seeding
DESCRIBE_PAGE = 1000  # DescribeInstances page size (the most the API returns)
STOP_BATCH = 50  # instance ids per StopInstances call
# Calls to stop 200 instances, measured on the same moto setup.
ANCHOR_N = 200
ANCHORS = (("AWS Instance Scheduler", 255), ("per-instance schedulers", 404))
LATENCY_S = 0.15  # assumed real-AWS latency per call
LAMBDA_LIMIT_S = 15 * 60
ENVIRONMENT = {
    "DRY_RUN": "false",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Opskit",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "LOG_LEVEL": "WARNING",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
# Anything that would send the run elsewhere than the one moto account and region.
UNSET = ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "ALERT_TOPIC_ARN",
         "TARGET_ACCOUNTS", "TARGET_REGIONS")

EC2 = "ec2"
DESCRIBE = (EC2, "DescribeInstances")
STOP = (EC2, "StopInstances")
# The function's account, and instance types' hibernation support: read once per container.
ONCE_PER_CONTAINER = {("sts", "GetCallerIdentity"): 1, (EC2, "DescribeInstanceTypes"): 1}


class CallCounter:
    """botocore handlers: calls per (service, operation) and the time spent in them, while active.

    `before-call` and `after-call` fire once per logical call, so retries are not counted.
    """

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.seconds = 0.0
        self.active = False
        self._started: float | None = None

    def reset(self) -> None:
        self.counts.clear()
        self.seconds = 0.0
        self._started = None

    def __call__(self, *, model: OperationModel, **_: Any) -> None:
        if self.active:
            self.counts[(model.service_model.service_name, model.name)] += 1
            self._started = time.perf_counter()

    def after(self, **_: Any) -> None:
        if self.active and self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self._started = None

    @property
    def handlers(self) -> list[tuple[str, Any]]:
        return [("before-call.*.*", self), ("after-call.*.*", self.after)]


@dataclass(frozen=True, slots=True)
class Run:
    counts: Counter[tuple[str, str]]
    seconds: float
    in_calls_seconds: float
    peak_bytes: int


@dataclass(frozen=True, slots=True)
class Measure:
    n: int
    counts: Counter[tuple[str, str]]
    seconds: float  # the run without tracemalloc
    in_calls_seconds: float  # of which inside AWS (moto) calls
    peak_bytes: int  # an identical second run, under tracemalloc

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def minimum(self) -> int:
        return math.ceil(self.n / DESCRIBE_PAGE) + math.ceil(self.n / STOP_BATCH)

    @property
    def real_total(self) -> int:
        """The total with the DescribeInstances pages real AWS would return.

        moto pages DescribeInstances by reservation, not by instance: seeded 500 instances per
        reservation, N=5000 fits in one moto page where AWS returns ceil(N/1000).
        """
        pages = self.counts[DESCRIBE]
        return self.total - pages + max(pages, math.ceil(self.n / DESCRIBE_PAGE))

    @property
    def others(self) -> Counter[tuple[str, str]]:
        return Counter({key: n for key, n in self.counts.items() if key not in (DESCRIBE, STOP)})


def _prepare_environment() -> None:
    """Before the scheduler code is imported: its modules read the environment at import."""
    os.environ.update(ENVIRONMENT)
    for name in UNSET:
        os.environ.pop(name, None)
    for folder in ("functions", "shared_layer"):
        path = str(ROOT / folder)
        if path not in sys.path:
            sys.path.insert(0, path)


def _seed(ec2: EC2Client, n: int) -> None:
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    for start in range(0, n, SEED_CHUNK):
        count = min(SEED_CHUNK, n - start)
        ec2.run_instances(
            ImageId=image, InstanceType="t3.micro", MinCount=count, MaxCount=count,
            TagSpecifications=[{"ResourceType": "instance",
                                "Tags": [{"Key": "Schedule", "Value": SCHEDULE}]}],
        )


def _states(ec2: EC2Client) -> Iterator[str]:
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                yield instance["State"]["Name"]


def _expect(ec2: EC2Client, state: str, n: int) -> None:
    states = Counter(_states(ec2))
    assert states == {state: n}, f"expected {n} {state} instances, found {dict(states)}"


LAST_ACTION_TAG_KEY = "opskit:scheduler-last"


def _restart_all(ec2: EC2Client) -> None:
    """Every instance running again with no trace of the run: the scheduler's last-action tag
    removed too, else it would take the restart for a person's start and leave it alone."""
    ids = [instance["InstanceId"] for page in ec2.get_paginator("describe_instances").paginate()
           for reservation in page["Reservations"] for instance in reservation["Instances"]]
    for start in range(0, len(ids), SEED_CHUNK):
        ec2.start_instances(InstanceIds=ids[start:start + SEED_CHUNK])
        ec2.delete_tags(Resources=ids[start:start + SEED_CHUNK],
                        Tags=[{"Key": LAST_ACTION_TAG_KEY}])


def _run(n: int, counter: CallCounter, *, trace_memory: bool) -> Run:
    """One scheduler run at SATURDAY_NOON, which must stop all n instances."""
    from instance_scheduler.scheduler import schedule_target
    from instance_scheduler.settings import SchedulerConfig
    from opskit.observability import metrics
    from opskit.runner import run_automation

    with time_machine.travel(SATURDAY_NOON, tick=False):
        config = SchedulerConfig.from_env()
        now = datetime.now(UTC)
        gc.collect()
        counter.reset()
        if trace_memory:
            tracemalloc.start()
        counter.active = True
        start = time.perf_counter()
        # Powertools prints an EMF line every 100 metric values, even with
        # POWERTOOLS_METRICS_DISABLED=true: keep them out of the console.
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                summary = run_automation(
                    config.common, lambda t, e: schedule_target(t, e, config, now),
                    run_id="bench")
        finally:
            seconds = time.perf_counter() - start
            counter.active = False
            peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
            tracemalloc.stop()
            metrics.clear_metrics()
    assert summary["failed_targets"] == [], summary["failed_targets"]
    assert summary["counts"]["done"] == n, summary["counts"]
    return Run(Counter(counter.counts), seconds, counter.seconds, peak)


def measure(n: int, counter: CallCounter) -> Measure:
    """Seed n running instances in a fresh moto account, then run the scheduler twice: timed,
    then (instances restarted) under tracemalloc for the peak memory."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        _seed(ec2, n)
        _expect(ec2, "running", n)
        timed = _run(n, counter, trace_memory=False)
        _expect(ec2, "stopped", n)
        _restart_all(ec2)
        _expect(ec2, "running", n)
        traced = _run(n, counter, trace_memory=True)
        _expect(ec2, "stopped", n)
    # The container keeps what it read once (ONCE_PER_CONTAINER): the second run may skip
    # those calls, and makes no other.
    assert traced.counts == timed.counts - Counter(ONCE_PER_CONTAINER), (timed.counts,
                                                                         traced.counts)
    return Measure(n, timed.counts, timed.seconds, timed.in_calls_seconds, traced.peak_bytes)


def _fit(measures: list[Measure]) -> tuple[float, float]:
    """Least-squares real-AWS calls = slope * N + intercept over the measures."""
    xs = [float(m.n) for m in measures]
    ys = [float(m.real_total) for m in measures]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = (sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
             / sum((x - mean_x) ** 2 for x in xs))
    return slope, mean_y - slope * mean_x


def _operations(counts: Counter[tuple[str, str]]) -> str:
    return ", ".join(f"{service}:{operation} x{n}"
                     for (service, operation), n in sorted(counts.items())) or "none"


def report(measures: list[Measure]) -> str:
    lines = [
        "## Instance scheduler: stop N tagged EC2 instances",
        "",
        f"Each instance is tagged `Schedule={SCHEDULE}` and running; the run happens on "
        f"{SATURDAY_NOON:%A %Y-%m-%d %H:%M} UTC, so every instance must be stopped (checked "
        "after each run). `DRY_RUN=false`, default settings (all resource types: EC2, Auto "
        "Scaling, RDS), one account and region, seeding excluded. API calls are counted with "
        "botocore `before-call`/`after-call` hooks (retries not counted). *run* is the wall "
        "time of `run_automation`, *in calls* the part of it spent inside AWS calls (moto and "
        "botocore), *outside* the rest (opskit's code, client creation, request building). "
        "Peak memory comes from a second, identical run (instances restarted) under "
        "tracemalloc, which would slow the timed run; it includes moto's in-process backend. "
        "A discarded warm-up run "
        f"(N={WARM_UP_N}) comes first.",
        "",
        f"Minimum = ⌈N/{DESCRIBE_PAGE}⌉ DescribeInstances pages + ⌈N/{STOP_BATCH}⌉ "
        "StopInstances calls.",
        "",
        "| N | DescribeInstances pages | StopInstances calls | other calls | total AWS calls "
        "| minimum | total / minimum | run (s) | in calls (s) | outside (s) | peak (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measures:
        others = sum(m.others.values())
        lines.append(
            f"| {m.n} | {m.counts[DESCRIBE]} | {m.counts[STOP]} | {others} | {m.total} "
            f"| {m.minimum} | {m.total / m.minimum:.2f} | {m.seconds:.2f} "
            f"| {m.in_calls_seconds:.2f} | {m.seconds - m.in_calls_seconds:.2f} "
            f"| {m.peak_bytes / 2**20:.1f} |")
    lines.append("")
    distinct = {tuple(sorted(m.others.items())) for m in measures}
    if len(distinct) == 1:
        lines.append(f"Other calls, the same at every N: {_operations(measures[0].others)}.")
    else:
        lines += [f"- other calls at N={m.n}: {_operations(m.others)}" for m in measures]
    short = [m for m in measures if m.real_total != m.total]
    if short:
        fixes = ", ".join(f"N={m.n}: {m.counts[DESCRIBE]} moto page(s) where AWS returns "
                          f"{math.ceil(m.n / DESCRIBE_PAGE)}, so {m.real_total} calls on AWS "
                          f"({m.real_total / m.minimum:.2f}x the minimum)" for m in short)
        lines += ["", "moto pages DescribeInstances by reservation, not by instance (seeding "
                      f"puts {SEED_CHUNK} instances in each reservation), so it returns fewer "
                      f"pages than AWS would: {fixes}. The extrapolation below uses the AWS "
                      "counts."]
    anchor = next((m for m in measures if m.n == ANCHOR_N), None)
    if anchor is not None:
        versus = "; ".join(f"{name}: {calls} ({calls / anchor.total:.1f}x more)"
                           for name, calls in ANCHORS)
        record(f"instance_scheduler: stop {ANCHOR_N} tagged EC2 instances",
               f"{anchor.total} AWS calls (minimum {anchor.minimum})",
               "; ".join(f"{name}: {calls}" for name, calls in ANCHORS) + ", same setup")
        lines += ["", f"Reference at N={ANCHOR_N}, same moto setup: opskit {anchor.total} calls; "
                      f"{versus}."]
    largest = measures[-1] if measures else None
    if largest is not None and largest.n != ANCHOR_N:
        record(f"instance_scheduler: stop {largest.n:,} tagged EC2 instances",
               f"{largest.real_total:,} AWS calls on AWS paging (minimum {largest.minimum:,})",
               f"about {largest.real_total * LATENCY_S:.0f} s at {LATENCY_S * 1000:.0f} ms "
               "a call")
    slope, intercept = _fit(measures)
    budget_calls = LAMBDA_LIMIT_S / LATENCY_S
    crossing = math.ceil((budget_calls - intercept) / slope)
    estimates = ", ".join(f"N={m.n}: {m.real_total * LATENCY_S:.1f} s" for m in measures)
    lines += [
        "",
        f"Extrapolation to real AWS, at an assumed {LATENCY_S * 1000:.0f} ms per call made "
        f"one after the other: run time ≈ total calls x {LATENCY_S} s ({estimates}). "
        f"Fitted on the rows above, calls ≈ {slope:.4f} x N + {intercept:.1f}, so the run would "
        f"pass Lambda's {LAMBDA_LIMIT_S // 60}-minute limit ({budget_calls:.0f} calls) at "
        f"N ≈ {crossing:,} instances per account and region (ignoring throttling, the time "
        "outside calls and Lambda's memory).",
    ]
    return "\n".join(lines) + "\n"


def main() -> str:
    _prepare_environment()
    import botocore.handlers

    counter = CallCounter()
    botocore.handlers.BUILTIN_HANDLERS.extend(counter.handlers)
    measures: list[Measure] = []
    try:
        measure(WARM_UP_N, counter)
        for n in SIZES:
            started = time.perf_counter()
            measures.append(measure(n, counter))
            print(f"  N={n}: {measures[-1].total} calls, run {measures[-1].seconds:.2f} s "
                  f"(whole measure with seeding {time.perf_counter() - started:.1f} s)",
                  flush=True)
    finally:
        for handler in counter.handlers:
            botocore.handlers.BUILTIN_HANDLERS.remove(handler)
    return report(measures)
