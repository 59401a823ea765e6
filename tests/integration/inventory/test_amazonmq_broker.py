"""AWS::AmazonMQ::Broker collector on moto."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import verdicts
from tests.integration.inventory.seed_support import create_broker


def test_brokers_and_deployment_modes(aws: None, collect: Any) -> None:
    mq = boto3.client("mq", region_name="us-east-1")
    for name, engine, mode in (
        ("active-standby", "ACTIVEMQ", "ACTIVE_STANDBY_MULTI_AZ"),
        ("single-active", "ACTIVEMQ", "SINGLE_INSTANCE"),
        ("rabbit-cluster", "RABBITMQ", "CLUSTER_MULTI_AZ"),
        ("rabbit-single", "RABBITMQ", "SINGLE_INSTANCE"),
    ):
        create_broker(mq, name, engine, mode)

    # moto 5.2 ignores MaxResults on ListBrokers (one page); the paginator is still used.
    docs = collect("AWS::AmazonMQ::Broker")

    assert len(docs) == 4
    assert verdicts("mq-broker-activemq-active-standby", docs) == {
        "active-standby": "PASSED",
        "single-active": "FAILED",
        "rabbit-cluster": "NOT_APPLICABLE",
        "rabbit-single": "NOT_APPLICABLE",
    }
    assert verdicts("mq-broker-rabbitmq-cluster-multi-az", docs) == {
        "active-standby": "NOT_APPLICABLE",
        "single-active": "NOT_APPLICABLE",
        "rabbit-cluster": "PASSED",
        "rabbit-single": "FAILED",
    }
