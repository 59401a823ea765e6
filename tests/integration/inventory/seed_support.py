"""Seeding shared by the collector tests and the whole-account resilience audit."""

from __future__ import annotations

from typing import Any

# An OpenSearch cluster that meets every domain check: three zones, three dedicated masters.
RESILIENT_CLUSTER = {
    "InstanceCount": 3,
    "ZoneAwarenessEnabled": True,
    "ZoneAwarenessConfig": {"AvailabilityZoneCount": 3},
    "DedicatedMasterEnabled": True,
    "DedicatedMasterCount": 3,
}


def create_broker(mq: Any, name: str, engine: str, mode: str) -> None:
    """An Amazon MQ broker of ``engine`` (ACTIVEMQ or RABBITMQ) in deployment ``mode``."""
    mq.create_broker(
        BrokerName=name,
        DeploymentMode=mode,
        EngineType=engine,
        EngineVersion="5.17.6" if engine == "ACTIVEMQ" else "3.11.20",
        HostInstanceType="mq.m5.large",
        PubliclyAccessible=False,
        AutoMinorVersionUpgrade=True,
        Users=[{"Username": "admin", "Password": "password-for-tests"}],
    )
