"""The log shipper's configuration, read once from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from log_shipper.masks import MaskPath, parse_mask
from log_shipper.opensearch import endpoint_region
from log_shipper.payload import is_log_group_name
from opskit.config import CommonConfig, ConfigError, Env

AUTOMATION = "log_shipper"
# The one filter name the shipper creates, changes and deletes (with its own destination).
FILTER_NAME = "opskit-log-shipper"
_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
_KMS_KEY = r"arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/-]{1,256}"
_QUEUE_URL = r"https://sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/\d{12}/[\w-]{1,80}"
_ENDPOINT_EXPECTED = ("https://<domain host>.<region>.es.amazonaws.com, an OpenSearch Service "
                      "domain endpoint in the function's region, nothing after it")
_INDEX_PREFIX = r"[a-z0-9][a-z0-9_-]{0,100}"
_TAG_KEY = r"[\w.:/=+@ -]{1,128}"


def _opensearch_endpoint(endpoint: str, region: str) -> str:
    """An OpenSearch Service domain endpoint in `region` (the one region the role may post to
    and the requests are signed for); ConfigError for any other URL: an IP address, another
    host (it would get the signed request and the session token), http, an OpenSearch
    Serverless collection (service aoss, not supported) or a domain in another region."""
    if re.fullmatch(r"https://[a-z0-9.-]+\.aoss\.amazonaws\.com", endpoint):
        raise ConfigError("OPENSEARCH_ENDPOINT", endpoint,
                          "an OpenSearch Service domain (*.es.amazonaws.com): OpenSearch "
                          "Serverless collections (aoss) are not supported")
    try:
        host_region = endpoint_region(endpoint)
    except ValueError:
        raise ConfigError("OPENSEARCH_ENDPOINT", endpoint, _ENDPOINT_EXPECTED) from None
    if host_region != region:
        raise ConfigError("OPENSEARCH_ENDPOINT", endpoint,
                          f"a domain in the function's region {region} (this one is in "
                          f"{host_region})")
    return endpoint


@dataclass(frozen=True, slots=True)
class ShipperConfig:
    common: CommonConfig
    bucket: str
    # The bucket's key: every object is written with SSE-KMS under it.
    kms_key_arn: str
    # Objects go under this prefix, in Hive-style partitions (docs/log_shipper.md, Layout).
    prefix: str
    # Subscribed by the reconciliation: these log groups, and those tagged ship_tag_key=true.
    log_groups: tuple[str, ...]
    ship_tag_key: str
    filter_pattern: str
    masks: tuple[MaskPath, ...]
    opensearch_endpoint: str | None
    opensearch_index_prefix: str
    # Where events OpenSearch refuses for good (a mapping conflict) are kept.
    poison_queue_url: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ShipperConfig:
        env = Env(environ)
        common = CommonConfig.from_env(AUTOMATION, environ)
        endpoint = env.optional_text("OPENSEARCH_ENDPOINT")
        if endpoint is not None:
            endpoint = _opensearch_endpoint(endpoint.rstrip("/"), common.home_region)
        masks = []
        for text in env.items("MASKED_FIELDS", expected="JSON paths such as $.user.email"):
            try:
                masks.append(parse_mask(text))
            except ValueError as error:
                raise ConfigError("MASKED_FIELDS", text, str(error)) from None
        queue = env.optional_text("POISON_QUEUE_URL")
        if queue is not None and not re.fullmatch(_QUEUE_URL, queue):
            raise ConfigError("POISON_QUEUE_URL", queue, "an SQS queue URL")
        return cls(
            common=common,
            bucket=env.text("LOG_BUCKET", pattern=_BUCKET),
            kms_key_arn=env.text("LOG_KMS_KEY_ARN", pattern=_KMS_KEY),
            prefix=env.text("LOG_PREFIX", "logs/", pattern=r"([\w.-]{1,100}/){1,4}"),
            log_groups=env.items("LOG_GROUPS", item=is_log_group_name,
                                 expected="log group names, comma-separated"),
            ship_tag_key=env.text("SHIP_TAG_KEY", "opskit:ship-logs", pattern=_TAG_KEY),
            filter_pattern=env.raw("SUBSCRIPTION_FILTER_PATTERN") or "",
            masks=tuple(masks),
            opensearch_endpoint=endpoint,
            opensearch_index_prefix=env.text("OPENSEARCH_INDEX_PREFIX", "logs-",
                                             pattern=_INDEX_PREFIX),
            poison_queue_url=queue,
        )
