"""Targets per minute: one invocation looping over the targets (single mode) against one message
per target consumed by concurrent workers (dispatch mode), with simulated per-call latency.

Each target makes CALLS calls of LATENCY_S each (a sleep standing for AWS); one account in
every SLOW_EVERY is SLOW_FACTOR times slower. Both modes run the real opskit runner, SQS and
the worker decorator on moto; the dispatch mode's workers are threads, as many as Lambda's
MaximumConcurrency would allow.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from bench._summary import record

ROOT = Path(__file__).resolve().parent.parent
TARGETS = 60
CALLS = 20
LATENCY_S = 0.025
SLOW_EVERY = 20
SLOW_FACTOR = 10
CONCURRENCY = (5, 20)
ENVIRONMENT = {"DRY_RUN": "true", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
               "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "POWERTOOLS_METRICS_NAMESPACE": "Opskit", "POWERTOOLS_METRICS_DISABLED": "true",
               "LOG_LEVEL": "WARNING", "POWERTOOLS_LOG_LEVEL": "WARNING"}
ACCOUNTS = [f"{100000000000 + n}" for n in range(TARGETS)]


def _work(target: Any, executor: Any) -> Any:
    from opskit.runner import TargetRun

    slow = int(target.account_id) % SLOW_EVERY == 0
    time.sleep(CALLS * LATENCY_S * (SLOW_FACTOR if slow else 1))
    return TargetRun(title="simulated")


def _config() -> Any:
    from opskit.config import CommonConfig

    return CommonConfig.from_env("bench", {**os.environ,
                                           "TARGET_ACCOUNTS": ",".join(ACCOUNTS)})


def _single() -> float:
    from opskit.runner import run_automation

    start = time.perf_counter()
    run_automation(_config(), _work, run_id="single")
    return time.perf_counter() - start


def _dispatch(workers: int) -> float:
    from opskit.dispatch import worker
    from opskit.runner import run_automation

    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName=f"bench-{workers}")["QueueUrl"]
    os.environ["DISPATCH_QUEUE_URL"] = queue
    event = {"version": "0", "id": "bench", "detail-type": "Scheduled Run",
             "source": "aws.scheduler", "time": "2026-11-23T05:00:00Z", "detail": {}}

    @worker("bench")
    def handler(_: Any, __: Any) -> dict[str, Any]:
        return run_automation(_config(), _work, run_id="worker")

    start = time.perf_counter()
    run_automation(_config(), _work, run_id="dispatcher", event=event)
    os.environ.pop("DISPATCH_QUEUE_URL")
    lock = threading.Lock()

    def consume() -> None:
        client = boto3.client("sqs")
        while True:
            with lock:
                got = client.receive_message(QueueUrl=queue, MaxNumberOfMessages=1).get(
                    "Messages", [])
            if not got:
                return
            record = {"messageId": got[0]["MessageId"], "body": got[0]["Body"],
                      "eventSource": "aws:sqs"}
            handler({"Records": [record]}, None)
            client.delete_message(QueueUrl=queue, ReceiptHandle=got[0]["ReceiptHandle"])

    threads = [threading.Thread(target=consume) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def main() -> str:
    warnings.simplefilter("ignore")
    os.environ.update(ENVIRONMENT)
    for name in ("ALERT_TOPIC_ARN", "TARGET_REGIONS", "DISPATCH_QUEUE_URL"):
        os.environ.pop(name, None)
    for folder in ("functions", "shared_layer"):
        if str(ROOT / folder) not in sys.path:
            sys.path.insert(0, str(ROOT / folder))
    rows = []
    with mock_aws(), contextlib.redirect_stdout(io.StringIO()):
        single = _single()
        dispatched = {c: _dispatch(c) for c in CONCURRENCY}
    per_target = CALLS * LATENCY_S
    rows.append(f"| single | 1 | {single:.1f} | {TARGETS / single * 60:.0f} |")
    for workers, seconds in dispatched.items():
        rows.append(f"| dispatch (sqs) | {workers} | {seconds:.1f} | "
                    f"{TARGETS / seconds * 60:.0f} |")
    slow = TARGETS // SLOW_EVERY
    record(f"Organization scale ({TARGETS} targets, simulated latency)",
           f"single mode {TARGETS / single * 60:.0f} targets a minute; dispatch mode "
           + ", ".join(f"{TARGETS / seconds * 60:.0f} ({workers} workers)"
                       for workers, seconds in dispatched.items()))
    return "\n".join([
        "## Organization scale: single mode against dispatch mode",
        "",
        f"{TARGETS} targets (accounts), each {CALLS} calls of {LATENCY_S * 1000:.0f} ms "
        f"({per_target:.1f} s), {slow} of them {SLOW_FACTOR}x slower. Dry-run, moto, the real "
        "runner, SQS messages and worker decorator; workers are threads.",
        "",
        "| mode | targets at once | all targets done (s) | targets per minute |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        "In single mode a slow account delays every account after it and the whole run must fit "
        "in one invocation; in dispatch mode it holds one worker, and each target has a whole "
        "invocation (the function's timeout) of its own. Throughput grows with the workers "
        "until opskit's own time per target (sessions, report) dominates.",
    ])


if __name__ == "__main__":
    print(main())
