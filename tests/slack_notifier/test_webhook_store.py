"""The webhook secret's cache: one read per container and SECRET_MAX_AGE_SECONDS, on the clock of
the container (monotonic), never a failed read kept."""

from __future__ import annotations

import boto3
import pytest

from slack_notifier.notifier import WebhookStore
from slack_notifier.settings import NotifierConfig
from tests.conftest import ApiCalls
from tests.slack_notifier.helpers import (
    DEFAULT_URL,
    SECRET_NAME,
    SECURITY_URL,
    create_webhook_secret,
)

pytestmark = pytest.mark.usefixtures("notifier_env")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def config(max_age: int = 300) -> NotifierConfig:
    return NotifierConfig.from_env({"SLACK_WEBHOOK_SECRET": SECRET_NAME, "AWS_REGION": "eu-west-1",
                                    "SECRET_MAX_AGE_SECONDS": str(max_age)})


def test_the_secret_is_read_again_once_its_age_is_reached(api_calls: ApiCalls) -> None:
    create_webhook_secret({"default": DEFAULT_URL})
    clock = Clock()
    store = WebhookStore(clock)

    assert store.load(config())["default"].url == DEFAULT_URL
    boto3.client("secretsmanager").put_secret_value(SecretId=SECRET_NAME,
                                                    SecretString=f'{{"default": "{SECURITY_URL}"}}')
    clock.now += 299
    assert store.load(config())["default"].url == DEFAULT_URL  # still the cached value
    clock.now += 1
    assert store.load(config())["default"].url == SECURITY_URL

    assert api_calls.of("secretsmanager", "GetSecretValue") == 2


def test_a_max_age_of_zero_reads_at_every_load(api_calls: ApiCalls) -> None:
    create_webhook_secret({"default": DEFAULT_URL})
    store = WebhookStore(Clock())

    for _ in range(3):
        store.load(config(max_age=0))

    assert api_calls.of("secretsmanager", "GetSecretValue") == 3


def test_a_failed_read_is_not_kept(api_calls: ApiCalls) -> None:
    store = WebhookStore(Clock())

    with pytest.raises(Exception, match="ResourceNotFoundException"):
        store.load(config())
    create_webhook_secret({"default": DEFAULT_URL})

    assert store.load(config())["default"].url == DEFAULT_URL
    assert api_calls.of("secretsmanager", "GetSecretValue") == 2
