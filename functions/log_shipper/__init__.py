"""Log shipper: CloudWatch Logs subscriptions parsed into S3 (Athena) and, optionally,
OpenSearch."""

from opskit.codecache import load

load(__file__)  # the compiled dataclass methods the build wrote (opskit/codecache.py)
