from __future__ import annotations

import pytest

from opskit.config import CommonConfig, ConfigError, Env, is_account_id, is_region


def test_defaults_are_safe() -> None:
    config = CommonConfig.from_env("demo", {"AWS_REGION": "eu-west-1"})
    assert config.dry_run is True
    assert config.exemption_tag_key == "opskit:exempt"
    assert config.target_accounts == ()
    assert config.target_regions == ()
    assert config.alert_topic_arn is None
    assert config.home_region == "eu-west-1"


def test_reads_every_shared_variable() -> None:
    config = CommonConfig.from_env("demo", {
        "AWS_REGION": "us-east-1",
        "DRY_RUN": "False",
        "EXEMPTION_TAG_KEY": "keep",
        "TARGET_ACCOUNTS": "111111111111, 222222222222",
        "TARGET_REGIONS": "eu-west-1,us-east-2",
        "ASSUME_ROLE_NAME": "Member",
        "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
    })
    assert config.dry_run is False
    assert config.exemption_tag_key == "keep"
    assert config.target_accounts == ("111111111111", "222222222222")
    assert config.target_regions == ("eu-west-1", "us-east-2")
    assert config.assume_role_name == "Member"
    assert config.alert_topic_arn == "arn:aws:sns:us-east-1:123456789012:alerts"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("DRY_RUN", "maybe", "true or false"),
        ("TARGET_ACCOUNTS", "12345", "'12345' is not valid"),
        ("TARGET_REGIONS", "europe", "'europe' is not valid"),
        ("ALERT_TOPIC_ARN", "not-an-arn", "an SNS topic ARN"),
        ("ASSUME_ROLE_NAME", "bad role!", "matching"),
    ],
)
def test_bad_values_name_the_variable_and_value(name: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        CommonConfig.from_env("demo", {"AWS_REGION": "eu-west-1", name: value})
    message = str(info.value)
    assert message.startswith(f"{name}={value!r} is invalid")
    assert fragment in message
    assert info.value.name == name


def test_env_integer_bounds_and_json() -> None:
    env = Env({"N": "12", "BIG": "99", "WORD": "x", "J": '{"a": 1}', "L": "[1]", "BAD": "{"})
    assert env.integer("N", 1, minimum=1, maximum=50) == 12
    assert env.integer("MISSING", 7) == 7
    with pytest.raises(ConfigError, match=r"BIG='99' is invalid: expected an integer in \[1, 50\]"):
        env.integer("BIG", 1, minimum=1, maximum=50)
    with pytest.raises(ConfigError, match="WORD='x' is invalid: expected an integer"):
        env.integer("WORD", 1)
    assert env.json_object("J") == {"a": 1}
    assert env.json_object("MISSING") == {}
    with pytest.raises(ConfigError, match="L='\\[1\\]' is invalid: expected a JSON object"):
        env.json_object("L")
    with pytest.raises(ConfigError, match="BAD='\\{' is invalid: expected a JSON object"):
        env.json_object("BAD")


def test_required_text_without_default_fails() -> None:
    with pytest.raises(ConfigError, match="NEEDED=None is invalid: expected a non-empty value"):
        Env({"NEEDED": "  "}).text("NEEDED")


@pytest.mark.parametrize("value", ["eu-west-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5"])
def test_region_names(value: str) -> None:
    assert is_region(value)


@pytest.mark.parametrize("value", ["eu-west-\u0661", "eu-west-1\n", "evil.example/#", "EU-WEST-1",
                                   "eu-west-12", ""])
def test_what_is_not_a_region_name(value: str) -> None:
    """Only ASCII digits: a region ends up in console links and API endpoints."""
    assert not is_region(value)


@pytest.mark.parametrize(("value", "valid"), [("123456789012", True), ("\u0661" * 12, False),
                                              ("12345678901", False), ("123456789012\n", False)])
def test_account_ids(value: str, valid: bool) -> None:
    assert is_account_id(value) is valid
