"""Records indexed in an OpenSearch Service domain with the bulk API, signed with SigV4
(service `es`, the region of the domain's host, which is the function's): one index per day, a
hash of the owner, log group and event id as document id (a retried delivery overwrites, never
duplicates; two log groups never share an id), items refused for a moment retried, items
refused for good (a mapping conflict) kept in the poison queue, a request too large (413) split
in halves down to single records (a single record still too large goes to the poison queue), a
redirect refused (never followed), and anything else failing the invocation so that the
delivery is retried.

Bulk API: https://docs.opensearch.org/latest/api-reference/document-apis/bulk/ (per item:
`status`, and `error` when it failed). Signing:
https://docs.aws.amazon.com/opensearch-service/latest/developerguide/request-signing.html
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

if TYPE_CHECKING:
    import requests
    from botocore.credentials import Credentials
    from mypy_boto3_sqs import SQSClient

# A bulk request's body stays well under the smallest domains' 10 MiB HTTP limit.
MAX_BULK_BYTES = 5 * 1024 * 1024
# Item statuses worth another attempt: too many requests, and the cluster's own errors.
RETRYABLE = frozenset({429, 500, 502, 503, 504})
ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 2.0)
TIMEOUT_SECONDS = 30
# SQS: at most 10 messages and 256 KiB a message, and 256 KiB for a whole SendMessageBatch
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html).
MAX_POISON_MESSAGE_BYTES = 250_000
MAX_POISON_BATCH_BYTES = 256 * 1024
MAX_POISON_BATCH_ENTRIES = 10
TOO_LARGE = 413
# An OpenSearch Service domain endpoint: https://<host label>.<region>.es.amazonaws.com.
DOMAIN_ENDPOINT = re.compile(
    r"https://[a-z0-9](?:[a-z0-9-]{0,200}[a-z0-9])?\.([a-z]{2}(?:-[a-z]+)+-\d)\.es\.amazonaws\.com")
SERVICE = "es"


class DestinationError(RuntimeError):
    """OpenSearch did not take the records: the invocation fails, the delivery is retried."""


@dataclass
class BulkResult:
    indexed: int = 0
    poisoned: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    attempts: int = 0


def endpoint_region(endpoint: str) -> str:
    """The region of an OpenSearch Service domain endpoint; ValueError for any other URL."""
    match = DOMAIN_ENDPOINT.fullmatch(endpoint)
    if match is None:
        raise ValueError(f"{endpoint!r} is not https://<domain host>.<region>.es.amazonaws.com")
    return match[1]


def document_id(record: dict[str, Any]) -> str:
    """The same event from the same log group always gets the same id; events of two log groups
    or two accounts never share one."""
    key = "\n".join((str(record.get("account")), str(record.get("log_group_name")),
                     str(record["event_id"])))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def index_name(prefix: str, timestamp_ms: int) -> str:
    return f"{prefix}{datetime.fromtimestamp(timestamp_ms / 1000, UTC):%Y.%m.%d}"


def _document(record: dict[str, Any]) -> dict[str, Any]:
    document = {key: value for key, value in record.items() if value is not None}
    document["@timestamp"] = record["time"]
    return document


def bulk_lines(records: Sequence[dict[str, Any]], prefix: str) -> list[bytes]:
    """The action and document lines of each record, as one bytes item each."""
    lines = []
    for record in records:
        action = {"index": {"_index": index_name(prefix, record["timestamp"]),
                            "_id": document_id(record)}}
        lines.append(json.dumps(action).encode() + b"\n" + json.dumps(
            _document(record), separators=(",", ":"), ensure_ascii=False,
            default=str).encode("utf-8", "replace") + b"\n")
    return lines


def _chunks(lines: Sequence[bytes]) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of lines whose body fits MAX_BULK_BYTES."""
    start, size = 0, 0
    for index, line in enumerate(lines):
        if index > start and size + len(line) > MAX_BULK_BYTES:
            yield start, index
            start, size = index, 0
        size += len(line)
    if start < len(lines):
        yield start, len(lines)


type Post = Callable[[bytes], tuple[int, Any]]


class BulkClient:
    """POST /_bulk, signed with the function's credentials for the domain's region (that of its
    host, which must be the function's: `region`). A redirect is never followed: it would carry
    the signed headers and the records to another host."""

    def __init__(self, endpoint: str, region: str, credentials: Credentials,
                 session: requests.Session) -> None:
        host_region = endpoint_region(endpoint)
        if host_region != region:
            raise ValueError(f"{endpoint!r} is in {host_region}, not in the function's region "
                             f"{region}")
        self.url = f"{endpoint}/_bulk"
        self.region = host_region
        self.credentials = credentials
        self.session = session

    def post(self, body: bytes) -> tuple[int, Any]:
        request = AWSRequest(method="POST", url=self.url, data=body,
                             headers={"Content-Type": "application/x-ndjson"})
        SigV4Auth(self.credentials.get_frozen_credentials(), SERVICE,
                  self.region).add_auth(request)
        response = self.session.post(self.url, data=body, headers=dict(request.headers.items()),
                                     timeout=TIMEOUT_SECONDS, allow_redirects=False)
        if 300 <= response.status_code < 400:
            raise DestinationError(f"OpenSearch bulk answered HTTP {response.status_code} "
                                   f"(a redirect, not followed)")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return response.status_code, answer


def _item_status(item: Any) -> tuple[int, str]:
    """An item's status and error reason, from {"index": {"status": ..., "error": ...}}."""
    if not isinstance(item, dict) or len(item) != 1:
        return 0, "unreadable item"
    (body,) = item.values()
    if not isinstance(body, dict) or not isinstance(body.get("status"), int):
        return 0, "unreadable item"
    error = body.get("error")
    reason = (f"{error.get('type')}: {error.get('reason')}" if isinstance(error, dict)
              else str(error or ""))
    return int(body["status"]), reason


def send_bulk(post: Post, records: Sequence[dict[str, Any]], prefix: str,
              sleep: Callable[[float], None] | None = None) -> BulkResult:
    """Index every record; DestinationError when some could not be, after retries."""
    wait = sleep or time.sleep
    result = BulkResult()
    lines = bulk_lines(records, prefix)
    pending = list(range(len(records)))
    for attempt in range(ATTEMPTS):
        if not pending:
            break
        if attempt:
            wait(BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)])
        retry: list[int] = []
        chosen = [lines[i] for i in pending]
        work = [(pending[start:end], chosen[start:end]) for start, end in _chunks(chosen)]
        while work:
            batch, body = work.pop(0)
            result.attempts += 1
            status, answer = post(b"".join(body))
            if status == TOO_LARGE:  # the request is too large for the domain: halves
                if len(batch) == 1:
                    result.poisoned.append((records[batch[0]],
                                            f"{TOO_LARGE} the record alone is too large"))
                else:
                    half = len(batch) // 2
                    work[:0] = [(batch[:half], body[:half]), (batch[half:], body[half:])]
                continue
            if status in RETRYABLE:
                retry.extend(batch)
                continue
            if status != 200 or not isinstance(answer, dict) or not isinstance(
                    answer.get("items"), list) or len(answer["items"]) != len(batch):
                raise DestinationError(f"OpenSearch bulk answered HTTP {status}"
                                       f"{'' if status != 200 else ' without one item a record'}")
            for index, item in zip(batch, answer["items"], strict=True):
                code, reason = _item_status(item)
                if 200 <= code < 300 or code == 409:  # 409: that version is there already
                    result.indexed += 1
                elif code in RETRYABLE:
                    retry.append(index)
                elif 400 <= code < 500:
                    result.poisoned.append((records[index], f"{code} {reason}"))
                else:
                    retry.append(index)
        pending = retry
    if pending:
        raise DestinationError(f"OpenSearch did not take {len(pending)} of {len(records)} "
                               f"records after {ATTEMPTS} attempts")
    return result


def poison_body(record: dict[str, Any], reason: str) -> str:
    """One refused record as a message body of at most MAX_POISON_MESSAGE_BYTES encoded bytes:
    when it is larger, its fields are dropped and its message cut (marked truncated)."""
    reason = reason[:1000]
    body = json.dumps({"reason": reason, "record": record}, default=str)
    size = len(body.encode("utf-8", "replace"))
    if size <= MAX_POISON_MESSAGE_BYTES:
        return body
    document = {**record, "fields": None, "truncated": True}
    message = str(record.get("message") or "")

    def encoded(length: int) -> str:
        document["message"] = message[:length]
        return json.dumps({"reason": reason, "record": document}, default=str)

    # The longest start of the message whose body fits, by encoded bytes (an escaped character
    # takes 1 to 12 bytes): a binary search on its length.
    low, high = 0, len(message)
    while low < high:
        middle = (low + high + 1) // 2
        if len(encoded(middle).encode("utf-8", "replace")) <= MAX_POISON_MESSAGE_BYTES:
            low = middle
        else:
            high = middle - 1
    return encoded(low)


def poison_batches(bodies: Sequence[str]) -> list[list[tuple[int, str]]]:
    """(index, body) groups of at most ten whose bodies add up to MAX_POISON_BATCH_BYTES."""
    batches: list[list[tuple[int, str]]] = []
    size = 0
    for index, body in enumerate(bodies):
        length = len(body.encode("utf-8", "replace"))
        if not batches or len(batches[-1]) >= MAX_POISON_BATCH_ENTRIES or (
                size + length > MAX_POISON_BATCH_BYTES):
            batches.append([])
            size = 0
        batches[-1].append((index, body))
        size += length
    return batches


def send_poison(sqs: SQSClient, queue_url: str,
                poisoned: Sequence[tuple[dict[str, Any], str]]) -> int:
    """Each refused record as one message (its message cut to fit SQS), in batches of at most
    ten messages and 256 KiB; any message SQS does not take raises, naming each refused entry,
    so the invocation fails and nothing is lost."""
    bodies = [poison_body(record, reason) for record, reason in poisoned]
    refused: list[str] = []
    for batch in poison_batches(bodies):
        entries = [{"Id": str(index), "MessageBody": body} for index, body in batch]
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]
        for failed in answer.get("Failed", []):
            refused.append(f"record {failed.get('Id')}: {failed.get('Code')} "
                           f"{failed.get('Message', '')}".rstrip())
    if refused:
        raise DestinationError(f"the poison queue refused {len(refused)} of {len(bodies)} "
                               f"records: {'; '.join(refused[:10])}")
    return len(bodies)
