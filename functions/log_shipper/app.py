"""Lambda entry point of the log shipper: CloudWatch Logs subscription deliveries (shipped to
S3 and, optionally, OpenSearch) and the hourly schedule (subscription filters reconciled).

Shipping changes none of the user's resources, so DRY_RUN does not apply to it; it applies to
the reconciliation, which plans only in dry-run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from log_shipper.settings import AUTOMATION, ShipperConfig
from log_shipper.shipper import Destinations, accept, ship
from log_shipper.subscriptions import SubscriptionStore, reconcile
from opskit.actions import Executor
from opskit.aws import SessionFactory, Target
from opskit.handler import Invocation, Trigger, automation
from opskit.runner import TargetRun

if TYPE_CHECKING:
    import requests

_http: list[requests.Session] = []  # made on first use, reused across warm invocations


def _factory(config: ShipperConfig) -> SessionFactory:
    common = config.common
    return SessionFactory.shared(common.home_region, common.assume_role_name,
                                 f"opskit-{AUTOMATION}")


def destinations(config: ShipperConfig) -> Destinations:
    """The container's clients; OpenSearch's HTTP session only when an endpoint is set."""
    base = _factory(config).base
    bulk = None
    if config.opensearch_endpoint is not None:
        import requests  # noqa: PLC0415 - only when OpenSearch is configured

        from log_shipper.opensearch import BulkClient  # noqa: PLC0415

        if not _http:
            _http.append(requests.Session())
        credentials = base.get_credentials()
        if credentials is None:
            raise RuntimeError("no AWS credentials to sign OpenSearch requests with")
        bulk = BulkClient(config.opensearch_endpoint, config.common.home_region, credentials,
                          _http[0]).post
    sqs = base.client("sqs", region_name=config.common.home_region) if (
        config.poison_queue_url) else None
    return Destinations(s3=base.client("s3", region_name=config.common.home_region),
                        bulk=bulk, sqs=sqs)


@automation(AUTOMATION, config=ShipperConfig.from_env, triggers={Trigger.LOGS, Trigger.SCHEDULE})
def lambda_handler(run: Invocation[ShipperConfig]) -> dict[str, Any]:
    if run.trigger is Trigger.LOGS:
        delivery = accept(run.event, run.home_account)
        return ship(delivery, run.config, destinations(run.config))
    home, region = run.home_account, run.config.common.home_region

    def work(target: Target, executor: Executor) -> TargetRun:
        function_arn = (f"arn:{target.partition}:lambda:{target.region}:{target.account_id}:"
                        f"function:{run.context.function_name}")
        store = SubscriptionStore(target.session.client("logs", region_name=target.region))
        own_log_group = (getattr(run.context, "log_group_name", None)
                         or f"/aws/lambda/{run.context.function_name}")
        return reconcile(store, executor, run.config, function_arn, own_log_group)

    return run.targets(work, pairs=[(home, region)])
