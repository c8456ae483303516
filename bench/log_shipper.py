"""Log shipper throughput: events per second of one invocation that parses and writes a full
size delivery (about 1 MB of gzip, the largest a subscription sends), against writing the same
payload unparsed (decode, one put); and the invocation's peak Python memory against the
function's default 256 MB.

In-process moto S3: the times include moto's, not a real network's.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import gzip
import io
import json
import os
import random
import statistics
import sys
import time
import tracemalloc
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-1"
ACCOUNT = "123456789012"
BUCKET = "opskit-logs-bench"
TARGET_GZIP_BYTES = 1_000_000  # the largest delivery, compressed
RUNS = 3
FUNCTION_MEMORY_MB = 256


@dataclass(frozen=True)
class Measure:
    what: str
    events: int
    seconds: float
    peak_mb: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


def _message(n: int, rng: random.Random) -> str:
    """A mix as a Lambda function's log group holds it: Powertools JSON, runtime text, and the
    START/END/REPORT lines of each invocation."""
    request = str(uuid.UUID(int=rng.getrandbits(128)))
    kind = n % 6
    if kind == 0:
        return f"START RequestId: {request} Version: $LATEST\n"
    if kind == 1:
        return json.dumps({"level": rng.choice(["INFO", "INFO", "WARNING", "ERROR"]),
                           "location": f"handler:{rng.randint(10, 400)}",
                           "message": rng.choice(["order created", "payment captured",
                                                  "retrying provider", "cache miss"]),
                           "timestamp": "2026-11-23 07:00:00,415+0000", "service": "orders",
                           "function_request_id": request,
                           "order_id": f"ord-{rng.randint(1, 10**9)}",
                           "amount_cents": rng.randint(100, 99_999),
                           "user": {"id": f"u-{rng.randint(1, 10**6)}",
                                    "email": f"user{rng.randint(1, 10**6)}@example.com"}}) + "\n"
    if kind == 2:
        return (f"[ERROR]\t2026-11-23T07:00:00.630Z\t{request}\tprovider timed out after "
                f"{rng.randint(100, 3000)} ms (attempt {rng.randint(1, 3)})\n")
    if kind == 3:
        return f"{rng.getrandbits(64):x} {rng.getrandbits(64):x} plain line without a level\n"
    if kind == 4:
        return f"END RequestId: {request}\n"
    return (f"REPORT RequestId: {request}\tDuration: {rng.uniform(1, 3000):.2f} ms\t"
            f"Billed Duration: {rng.randint(1, 3000)} ms\tMemory Size: 256 MB\t"
            f"Max Memory Used: {rng.randint(60, 250)} MB\t\n")


def full_size_delivery() -> tuple[dict[str, Any], int, int]:
    """The event, its number of log events and its gzip size: events are added until the
    gzip reaches TARGET_GZIP_BYTES."""
    rng = random.Random(31)  # noqa: S311 - reproducible sample data, not secrets
    start = 1_795_417_200_000
    events: list[dict[str, Any]] = []
    size = 0
    while size < TARGET_GZIP_BYTES:
        for _ in range(2000):
            n = len(events)
            events.append({"id": f"{38600000000000000000000 + n}", "timestamp": start + n,
                           "message": _message(n, rng)})
        body = {"messageType": "DATA_MESSAGE", "owner": ACCOUNT,
                "logGroup": "/aws/lambda/orders-api", "logStream": "2026/11/23/[$LATEST]b",
                "subscriptionFilters": ["opskit-log-shipper"], "logEvents": events}
        packed = gzip.compress(json.dumps(body).encode(), mtime=0)
        size = len(packed)
    return {"awslogs": {"data": base64.b64encode(packed).decode()}}, len(events), size


def _timed(run: Any) -> tuple[float, float]:
    """(median seconds over RUNS, peak traced MB of the last run)."""
    times = []
    peak = 0.0
    for index in range(RUNS):
        gc.collect()
        if index == RUNS - 1:
            tracemalloc.start()
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
        if index == RUNS - 1:
            peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
            tracemalloc.stop()
    return statistics.median(times), peak


class _Context:
    function_name = "opskit-log-shipper"
    memory_limit_in_mb = FUNCTION_MEMORY_MB
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:opskit-log-shipper"
    aws_request_id = "bench"
    log_group_name = "/aws/lambda/opskit-log-shipper"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 120_000


def measure() -> tuple[list[Measure], int, int]:
    for folder in ("shared_layer", "functions"):
        if str(ROOT / folder) not in sys.path:
            sys.path.insert(0, str(ROOT / folder))
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                       "POWERTOOLS_METRICS_NAMESPACE": "Opskit",
                       "POWERTOOLS_METRICS_DISABLED": "true", "LOG_LEVEL": "WARNING",
                       "POWERTOOLS_SERVICE_NAME": "log_shipper", "LOG_BUCKET": BUCKET})
    os.environ.pop("ALERT_TOPIC_ARN", None)
    import boto3
    from moto import mock_aws

    event, count, gzip_bytes = full_size_delivery()
    with mock_aws():
        key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        os.environ["LOG_KMS_KEY_ARN"] = key
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET,
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        from log_shipper.app import lambda_handler
        from opskit.logs_payload import decode_logs_data

        def raw() -> None:
            body = base64.b64decode(event["awslogs"]["data"])
            s3.put_object(Bucket=BUCKET, Key="raw/delivery.json.gz", Body=body,
                          ServerSideEncryption="aws:kms", SSEKMSKeyId=key)

        def raw_decoded() -> None:
            decoded = decode_logs_data(event)
            s3.put_object(Bucket=BUCKET, Key="raw/delivery.json", Body=json.dumps(decoded),
                          ServerSideEncryption="aws:kms", SSEKMSKeyId=key)

        def shipped() -> None:
            with contextlib.redirect_stdout(io.StringIO()):  # the function's structured logs
                lambda_handler(event, _Context())

        shipped()  # warm: imports and clients, as a warm container has them
        measures = []
        for what, run in (("raw payload written unparsed (one put)", raw),
                          ("raw payload decoded, written as JSON (one put)", raw_decoded),
                          ("parsed and written (log_shipper handler)", shipped)):
            seconds, peak = _timed(run)
            measures.append(Measure(what, count, seconds, peak))
    return measures, count, gzip_bytes


def main() -> str:
    from bench._summary import record

    measures, count, gzip_bytes = measure()
    rows = [f"| {m.what} | {m.per_second:,.0f} | {m.seconds * 1000:,.0f} | {m.peak_mb:,.1f} |"
            for m in measures]
    shipped = measures[-1]
    record(f"log_shipper: a {gzip_bytes / 1e6:.1f} MB gzip delivery ({count:,} events)",
           f"{shipped.per_second:,.0f} events/s, peak {shipped.peak_mb:,.0f} MB traced",
           f"raw, unparsed: {measures[0].per_second:,.0f} events/s; "
           f"{FUNCTION_MEMORY_MB} MB function")
    return "\n".join([
        "## Log shipper throughput",
        "",
        f"One delivery of {count:,} log events, {gzip_bytes:,} bytes of gzip (the largest a "
        f"subscription sends), median of {RUNS} warm runs; peak = Python allocations traced "
        f"during one run (tracemalloc), against the function's {FUNCTION_MEMORY_MB} MB.",
        "",
        "| Path | Events/s | ms per delivery | Peak MB (traced) |",
        "|---|---|---|---|",
        *rows,
    ])


if __name__ == "__main__":
    print(main())
