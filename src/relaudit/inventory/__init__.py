"""Collectors, one per CloudFormation resource type, registered here and imported lazily."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from collections.abc import Iterable

    from relaudit.inventory.base import Collector

COLLECTORS: dict[str, str] = {
    "AWS::AmazonMQ::Broker": "relaudit.inventory.amazonmq_broker",
    "AWS::ApiGateway::Account": "relaudit.inventory.apigateway_account",
    "AWS::ApiGateway::RestApi": "relaudit.inventory.apigateway_rest_api",
    "AWS::ApiGateway::Stage": "relaudit.inventory.apigateway_stage",
    "AWS::ApiGateway::UsagePlan": "relaudit.inventory.apigateway_usage_plan",
    "AWS::ApiGatewayV2::Stage": "relaudit.inventory.apigatewayv2_stage",
    "AWS::AutoScaling::AutoScalingGroup": "relaudit.inventory.autoscaling_group",
    "AWS::CloudFormation::Stack": "relaudit.inventory.cloudformation_stack",
    "AWS::DMS::ReplicationInstance": "relaudit.inventory.dms_replication_instance",
    "AWS::DynamoDB::Table": "relaudit.inventory.dynamodb_table",
    "AWS::EC2::VPC": "relaudit.inventory.ec2_vpc",
    "AWS::EC2::VPCEndpoint": "relaudit.inventory.ec2_vpc_endpoint",
    "AWS::EC2::Volume": "relaudit.inventory.ec2_volume",
    "AWS::ECS::Service": "relaudit.inventory.ecs_service",
    "AWS::EFS::FileSystem": "relaudit.inventory.efs_file_system",
    "AWS::ElastiCache::ReplicationGroup": "relaudit.inventory.elasticache_replication_group",
    "AWS::ElasticLoadBalancing::LoadBalancer": "relaudit.inventory.elasticloadbalancing_load_balancer",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "relaudit.inventory.elbv2_load_balancer",
    "AWS::Events::Rule": "relaudit.inventory.events_rule",
    "AWS::IAM::Role": "relaudit.inventory.iam_role",
    "AWS::Lambda::AccountSettings": "relaudit.inventory.lambda_account_settings",
    "AWS::Lambda::EventSourceMapping": "relaudit.inventory.lambda_event_source_mapping",
    "AWS::Lambda::Function": "relaudit.inventory.lambda_function",
    "AWS::MSK::Cluster": "relaudit.inventory.msk_cluster",
    "AWS::Neptune::DBCluster": "relaudit.inventory.neptune_db_cluster",
    "AWS::OpenSearchService::Domain": "relaudit.inventory.opensearchservice_domain",
    "AWS::RDS::DBCluster": "relaudit.inventory.rds_db_cluster",
    "AWS::RDS::DBInstance": "relaudit.inventory.rds_db_instance",
    "AWS::Redshift::Cluster": "relaudit.inventory.redshift_cluster",
    "AWS::ResourceGroupsTaggingAPI::TaggedResources": "relaudit.inventory.resource_tags",
    "AWS::S3::Bucket": "relaudit.inventory.s3_bucket",
    "AWS::SNS::Subscription": "relaudit.inventory.sns_subscription",
    "AWS::SQS::Queue": "relaudit.inventory.sqs_queue",
    "AWS::Scheduler::Schedule": "relaudit.inventory.scheduler_schedule",
    "AWS::ServiceQuotas::ServiceQuota": "relaudit.inventory.servicequotas_service_quota",
    "AWS::StepFunctions::StateMachine": "relaudit.inventory.stepfunctions_state_machine",
}

# Collectors that make calls per resource on a slow bucket (Lambda's control plane at 15/s, API
# Gateway's 10/s, GetResources' 2.5/s): their units start first, in every region, so the audit's
# longest chains are not queued behind dozens of one-call units.
LONG_UNITS: tuple[str, ...] = (
    "AWS::Lambda::Function",
    "AWS::SQS::Queue",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGateway::Account",
    "AWS::IAM::Role",
    "AWS::ResourceGroupsTaggingAPI::TaggedResources",
    "AWS::CloudFormation::Stack",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::DynamoDB::Table",
    "AWS::Lambda::EventSourceMapping",
    "AWS::SNS::Subscription",
    "AWS::Events::Rule",
    "AWS::ServiceQuotas::ServiceQuota",
)


def start_order(resource_types: Iterable[str]) -> list[str]:
    """``resource_types`` with the long units first (in LONG_UNITS' order), then the rest sorted."""
    rank = {resource_type: index for index, resource_type in enumerate(LONG_UNITS)}
    return sorted(resource_types, key=lambda t: (rank.get(t, len(rank)), t))


def load_collector(resource_type: str) -> Collector:
    """Import and return the collector module for ``resource_type``."""
    return cast("Collector", importlib.import_module(COLLECTORS[resource_type]))


def iam_actions() -> frozenset[str]:
    """Every IAM action any collector calls (the audit role's read policy)."""
    actions: set[str] = set()
    for resource_type in COLLECTORS:
        actions |= load_collector(resource_type).IAM_ACTIONS
    return frozenset(actions)
