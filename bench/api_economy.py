"""API economy of the sweeps at N = 100 / 1,000 / 5,000 resources, next to the minimum possible.

For each automation, one account and region in moto, DRY_RUN=false, 2% of the resources needing
a change. Calls are counted once per logical call (botocore `before-call`; retries excluded).
*run* is the wall time on moto; *peak* is tracemalloc's peak during the run (moto's backend
included). The last column extrapolates to real AWS at LATENCY_S per call, one after another.
moto returns every listing in one page: the call counts use the pages real AWS would return.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
import time_machine
from moto import mock_aws

from bench._summary import record

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100, 1000, 5000)
SHARE = 50  # one resource in SHARE needs a change
LATENCY_S = 0.15
LAMBDA_LIMIT_S = 15 * 60
ENVIRONMENT = {"DRY_RUN": "false", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
               "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "POWERTOOLS_METRICS_NAMESPACE": "Opskit", "POWERTOOLS_METRICS_DISABLED": "true",
               "LOG_LEVEL": "WARNING", "POWERTOOLS_LOG_LEVEL": "WARNING"}


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 900_000


@dataclass(frozen=True)
class Case:
    automation: str
    what: str
    seed: Callable[[int], None]
    event: str
    minimum: Callable[[int], int]
    env: dict[str, str]
    # The listing call, and how many pages real AWS returns for N (moto returns one page).
    listing: tuple[str, str]
    aws_pages: Callable[[int], int]
    # Calls the automation makes several at a time (the S3 sweep's bucket reads), and how many.
    parallel: frozenset[str] = frozenset()
    workers: int = 1


def _seed_buckets(n: int) -> None:
    s3 = boto3.client("s3")
    closed: Any = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
              "RestrictPublicBuckets": True}
    for index in range(n):
        name = f"bench-{index:05d}"
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        if index % SHARE:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=closed)
        else:
            s3.put_bucket_acl(Bucket=name, ACL="public-read")


def _seed_groups(n: int) -> None:
    ec2 = boto3.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    for index in range(n):
        group = ec2.create_security_group(GroupName=f"bench-{index}", Description="bench",
                                          VpcId=vpc)["GroupId"]
        port = 22 if index % SHARE == 0 else 443
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def _seed_volumes(n: int) -> None:
    ec2 = boto3.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    with time_machine.travel(datetime(2026, 9, 1, tzinfo=UTC), tick=False):
        instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                     Placement={"AvailabilityZone": "eu-west-1a"})
        instance_id = instance["Instances"][0]["InstanceId"]
        for index in range(n):
            volume = ec2.create_volume(AvailabilityZone="eu-west-1a", Size=1)["VolumeId"]
            if index % SHARE:
                ec2.attach_volume(VolumeId=volume, InstanceId=instance_id,
                                  Device=f"/dev/sd{index}")


CASES = [
    Case("s3_public_remediation", "daily sweep of N buckets (Block Public Access on all but "
         "1 in 50, which is public by ACL)", _seed_buckets,
         "s3_public_remediation/scheduled-sweep.json",
         # ListBuckets pages + the account setting + one unavoidable read per bucket, and per
         # public bucket its ACL, policy, tags and ownership reads and two writes
         lambda n: math.ceil(n / 10_000) + 1 + n + (n // SHARE) * 6, {},
         ("s3", "ListBuckets"), lambda n: math.ceil(n / 10_000),
         frozenset({"GetPublicAccessBlock", "GetBucketAcl", "GetBucketPolicy"}), 8),
    Case("sg_open_port_remediation", "daily sweep of N security groups (1 in 50 opens SSH to "
         "the world)", _seed_groups, "sg_open_port_remediation/scheduled-sweep.json",
         # rule pages + group reads for the open ones + one revoke per open group
         lambda n: math.ceil(2 * n / 1000) + math.ceil((n // SHARE) / 200) + n // SHARE, {},
         ("ec2", "DescribeSecurityGroupRules"), lambda n: math.ceil(2 * n / 1000)),
    Case("resource_cleanup", "daily run over N volumes (1 in 50 unattached, marked)",
         _seed_volumes, "resource_cleanup/daily-cleanup.json",
         lambda n: math.ceil(n / 1000) + math.ceil((n // SHARE) / 200),
         {"RESOURCE_TYPES": "ebs-volume"}, ("ec2", "DescribeVolumes"),
         lambda n: math.ceil(n / 1000)),
]


def _measure(case: Case, n: int) -> tuple[Counter[tuple[str, str]], float, int]:
    counts: Counter[tuple[str, str]] = Counter()

    def count(model: Any = None, **_: Any) -> None:
        counts[(model.service_model.service_name, model.name)] += 1

    with mock_aws():
        with contextlib.redirect_stdout(io.StringIO()):
            case.seed(n)
        handler_module = __import__(f"{case.automation}.app", fromlist=["lambda_handler"])
        event = json.loads((ROOT / "events" / case.event).read_text())
        entry = ("before-call.*.*", count)
        botocore.handlers.BUILTIN_HANDLERS.append(entry)
        from opskit import aws  # on sys.path once the benchmark set it up

        aws.forget()  # a new container: its clients are made with the counting hook
        tracemalloc.start()
        start = time.perf_counter()
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                handler_module.lambda_handler(event, _Context())
        finally:
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            botocore.handlers.BUILTIN_HANDLERS.remove(entry)
    return counts, seconds, peak


def main() -> str:
    warnings.simplefilter("ignore")  # Powertools' repeated-dimension warnings between runs
    os.environ.update(ENVIRONMENT)
    for name in ("ALERT_TOPIC_ARN", "TARGET_ACCOUNTS", "TARGET_REGIONS"):
        os.environ.pop(name, None)
    for folder in ("functions", "shared_layer"):
        if str(ROOT / folder) not in sys.path:
            sys.path.insert(0, str(ROOT / folder))
    sections = ["## API economy of the sweeps", "", __doc__.strip().split("\n\n", 1)[1], ""]
    for case in CASES:
        saved = {k: os.environ.get(k) for k in case.env}
        os.environ.update(case.env)
        rows = []
        points: list[tuple[int, int]] = []
        try:
            for n in SIZES:
                counts, seconds, peak = _measure(case, n)
                moto_pages = counts[case.listing]
                total = (sum(c for (svc, _), c in counts.items() if svc != "sts")
                         - moto_pages + max(moto_pages, case.aws_pages(n)))
                minimum = case.minimum(n)
                concurrent = sum(c for (_, op), c in counts.items() if op in case.parallel)
                # one after another, except the calls made `workers` at a time
                sequential = total - concurrent + math.ceil(concurrent / case.workers)
                points.append((n, sequential))
                if n == SIZES[-1]:
                    record(f"{case.automation}: {case.what}, N = {n:,}",
                           f"{total:,} AWS calls ({total / minimum:.2f}x the minimum)",
                           f"about {sequential * LATENCY_S:.0f} s at "
                           f"{LATENCY_S * 1000:.0f} ms a call")
                rows.append(f"| {n} | {total} | {minimum} | {total / minimum:.2f} | "
                            f"{seconds:.1f} | {peak / 1024 / 1024:.0f} | "
                            f"{sequential * LATENCY_S:.0f} |")
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        (n1, c1), (n2, c2) = points[0], points[-1]
        slope = (c2 - c1) / (n2 - n1)
        limit = (f"at N of about {int((LAMBDA_LIMIT_S / LATENCY_S - (c1 - slope * n1)) / slope):,}"
                 if slope > 0 else "at no N in sight")
        sections += [
            f"### {case.automation}: {case.what}", "",
            "| N | AWS calls | minimum | ratio | run on moto (s) | peak (MiB) | "
            f"at {LATENCY_S * 1000:.0f} ms a call (s) |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            *rows, "",
            f"Sequential calls grow as {slope:.4f} x N; one invocation would reach Lambda's 15 "
            f"minutes {limit} (no throttling"
            + (f"; bucket reads {case.workers} at a time" if case.workers > 1 else "")
            + ").", ""]
    return "\n".join(sections)


if __name__ == "__main__":
    print(main())
