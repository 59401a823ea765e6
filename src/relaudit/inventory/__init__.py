"""Collectors, one per CloudFormation resource type, registered here and imported lazily."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from relaudit.inventory.base import Collector

COLLECTORS: dict[str, str] = {
    "AWS::ApiGateway::Stage": "relaudit.inventory.apigateway_stage",
    "AWS::ApiGatewayV2::Stage": "relaudit.inventory.apigatewayv2_stage",
    "AWS::AutoScaling::AutoScalingGroup": "relaudit.inventory.autoscaling_group",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "relaudit.inventory.elbv2_load_balancer",
    "AWS::Lambda::Function": "relaudit.inventory.lambda_function",
    "AWS::RDS::DBInstance": "relaudit.inventory.rds_db_instance",
    "AWS::SQS::Queue": "relaudit.inventory.sqs_queue",
}


def load_collector(resource_type: str) -> Collector:
    """Import and return the collector module for ``resource_type``."""
    return cast("Collector", importlib.import_module(COLLECTORS[resource_type]))


def iam_actions() -> frozenset[str]:
    """Every IAM action any collector calls (the audit role's read policy)."""
    actions: set[str] = set()
    for resource_type in COLLECTORS:
        actions |= load_collector(resource_type).IAM_ACTIONS
    return frozenset(actions)
