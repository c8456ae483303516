"""Records written to S3: gzip NDJSON, one object per delivery and partition, Hive-style keys
(`log_group=/year=/month=/day=/hour=`), named after the delivery so a retry overwrites the same
object instead of adding another, each written with SSE-KMS.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from log_shipper.payload import Delivery

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The columns of the Glue table, in order (template.yaml, LogShipperTable): `fields` is written
# as JSON text, so Athena's json_extract reads any structured log.
COLUMNS = ("timestamp", "time", "event_id", "log_group_name", "log_stream", "account", "region",
           "kind", "level", "message", "request_id", "logged_at", "duration_ms",
           "billed_duration_ms", "memory_size_mb", "max_memory_used_mb", "init_duration_ms",
           "fields")


def partition_value(log_group: str) -> str:
    """A log group as one path segment: the leading / dropped, the others as `.`
    (/aws/lambda/orders -> aws.lambda.orders); the exact name is the log_group_name column."""
    return log_group.lstrip("/").replace("/", ".") or "_"


def delivery_name(delivery: Delivery) -> str:
    """The same delivery, retried, gets the same name; two different deliveries never share
    one: the hash covers its source, the subscription filters that sent it and every event id,
    in order (two filters with different patterns may send the same first and last event)."""
    digest = hashlib.sha256()
    for part in (delivery.owner, delivery.log_group, delivery.log_stream,
                 str(len(delivery.subscription_filters)), *delivery.subscription_filters,
                 str(len(delivery.events)), *(event.id for event in delivery.events)):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(str(len(data)).encode() + b":" + data)  # length-prefixed: unambiguous
    return digest.hexdigest()[:40]


def partition_of(log_group: str, timestamp_ms: int) -> str:
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return (f"log_group={partition_value(log_group)}/year={moment:%Y}/month={moment:%m}/"
            f"day={moment:%d}/hour={moment:%H}/")


def ndjson_line(record: dict[str, Any]) -> bytes:
    row = {column: record.get(column) for column in COLUMNS}
    if row["fields"] is not None:
        row["fields"] = json.dumps(row["fields"], separators=(",", ":"), ensure_ascii=False,
                                   default=str)
    # A lone surrogate (an escape no UTF-8 text holds) becomes "?": one odd event never
    # blocks its delivery.
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "replace") + b"\n"


class _Part:
    """One object being written: the gzip stream and its record count."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.stream = gzip.GzipFile(filename="", mode="wb", fileobj=self.buffer, mtime=0,
                                    compresslevel=6)
        self.records = 0


@dataclass(frozen=True, slots=True)
class Written:
    key: str
    records: int
    bytes: int


def build_objects(prefix: str, delivery: Delivery,
                  records: Iterable[dict[str, Any]]) -> dict[str, tuple[bytes, int]]:
    """Key -> (gzip body, record count) for each partition the records fall in. The gzip
    header carries no time or name, so the same records always make the same bytes."""
    name = delivery_name(delivery)
    parts: dict[str, _Part] = {}
    for record in records:
        key = f"{prefix}{partition_of(delivery.log_group, record['timestamp'])}{name}.json.gz"
        part = parts.get(key)
        if part is None:
            part = parts[key] = _Part()
        part.stream.write(ndjson_line(record))
        part.records += 1
    objects = {}
    for key, part in parts.items():
        part.stream.close()
        objects[key] = (part.buffer.getvalue(), part.records)
    return objects


def write_objects(s3: S3Client, bucket: str, kms_key_arn: str,
                  objects: dict[str, tuple[bytes, int]], delivery: Delivery) -> list[Written]:
    """Each object put with SSE-KMS (the bucket key keeps KMS calls down). A failure raises:
    the invocation fails, the delivery is retried and overwrites the same keys."""
    written = []
    for key, (body, records) in sorted(objects.items()):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson",
                      ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key_arn,
                      BucketKeyEnabled=True,
                      Metadata={"opskit-source-account": delivery.owner,
                                "opskit-records": str(records)})
        written.append(Written(key, records, len(body)))
    return written
