"""A small price table for the savings estimate (USD a month, on-demand list prices).

It is an estimate: prices differ by region, change over time, and ignore free tiers, discounts
and data transfer. Figures are us-east-1 list prices; other regions apply a multiplier.
"""

from __future__ import annotations

# USD per GB-month of EBS volume storage, by volume type.
VOLUME_GB = {"gp3": 0.08, "gp2": 0.10, "io1": 0.125, "io2": 0.125, "st1": 0.045,
             "sc1": 0.015, "standard": 0.05}
SNAPSHOT_GB = 0.05  # EBS snapshot standard tier, counted on the volume size (an upper bound)
IDLE_ADDRESS = 3.60  # a public IPv4 address: 0.005 an hour
BALANCER = {"application": 16.43, "network": 16.43, "gateway": 9.13}  # the hourly charge only
LOG_STORAGE_GB = 0.03  # CloudWatch Logs archived storage
# Rough regional multipliers over us-east-1 (storage prices); unknown regions use 1.1.
REGION = {"us-east-1": 1.0, "us-east-2": 1.0, "us-west-2": 1.0, "us-west-1": 1.12,
          "eu-west-1": 1.1, "eu-west-2": 1.16, "eu-west-3": 1.16, "eu-central-1": 1.19,
          "eu-north-1": 1.05, "ap-southeast-1": 1.2, "ap-southeast-2": 1.2,
          "ap-northeast-1": 1.2, "ap-south-1": 1.14, "ca-central-1": 1.1, "sa-east-1": 1.9}


def in_region(usd: float, region: str) -> float:
    return round(usd * REGION.get(region, 1.1), 2)
