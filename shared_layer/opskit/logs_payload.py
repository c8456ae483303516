"""CloudWatch Logs subscription payloads (`awslogs.data`: base64 of gzip of JSON), decoded with
what they expand to capped.

The format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Mapping
from typing import Any

# A subscription payload is at most about 1 MB compressed; what it expands to is capped, so a
# crafted payload (a gzip bomb) cannot take the function's memory.
MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024
# The event as Lambda delivers it: the base64 text of at most 1 MB of gzip, in its envelope.
MAX_EVENT_BYTES = 1_450_000


def decode_logs_data(event: Mapping[str, Any], max_bytes: int | None = None) -> Any:
    """`awslogs.data` decoded: JSON of what CloudWatch Logs sent. Raises KeyError, TypeError or
    ValueError (bad base64, not gzip or zlib, not JSON, past `max_bytes` expanded, by default
    MAX_DECOMPRESSED_BYTES)."""
    limit = MAX_DECOMPRESSED_BYTES if max_bytes is None else max_bytes
    data = event["awslogs"]["data"]
    if not isinstance(data, str):
        raise TypeError(f"awslogs.data is {type(data).__name__}, not base64 text")
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
    text = inflater.decompress(base64.b64decode(data, validate=True), limit)
    if inflater.unconsumed_tail:
        raise ValueError(f"awslogs.data expands past {limit} bytes")
    return json.loads(text)
