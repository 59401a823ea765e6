"""botocore models held compactly (relaudit.service_models): clients behave as with botocore's own loader."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError
from botocore.loaders import create_loader
from botocore.model import NoShapeFoundError, ServiceModel

from relaudit import service_models
from relaudit.aws import ClientFactory
from relaudit.service_models import CompactLoader, JsonTextMap


def _documentation_in(value: Any) -> bool:
    if isinstance(value, dict):
        return "documentation" in value or any(_documentation_in(v) for v in value.values())
    if isinstance(value, list):
        return any(_documentation_in(v) for v in value)
    return False


def test_a_compact_model_is_botocores_without_documentation() -> None:
    full = create_loader().load_service_model("lambda", "service-2")
    slim = CompactLoader().load_service_model("lambda", "service-2")
    assert isinstance(slim["shapes"], JsonTextMap)
    assert set(slim["shapes"]) == set(full["shapes"])
    assert set(slim["operations"]) == set(full["operations"])
    for name in ("FunctionConfiguration", "ListFunctionsResponse", "TooManyRequestsException"):
        assert full["shapes"][name].get("documentation") or _documentation_in(full["shapes"][name])
        shape = slim["shapes"][name]
        assert not _documentation_in(shape)
        assert shape["type"] == full["shapes"][name]["type"]
        assert set(shape.get("members", {})) == set(full["shapes"][name].get("members", {}))
    assert not _documentation_in(slim["operations"]["ListFunctions"])
    assert slim["metadata"] == full["metadata"]


def test_the_loader_keeps_only_the_compact_copy() -> None:
    loader = CompactLoader()
    model = loader.load_service_model("ec2", "service-2")
    assert loader.load_service_model("ec2", "service-2") is model
    # botocore caches the full model twice (the model, and the file's data with its path): both must
    # go, or the compact copy would only add memory. Fails if botocore changes how it caches.
    held = [v for v in loader._cache.values() if isinstance(v, dict) and isinstance(v.get("shapes"), dict)]
    held += [v for v in loader._cache.values() if isinstance(v, tuple) and v and isinstance(v[0], dict)]
    assert not [v for v in held if "shapes" in (v if isinstance(v, dict) else v[0])]


def test_sessions_of_a_process_share_one_loader(aws: None) -> None:
    first, second = ClientFactory(boto3.session.Session()), ClientFactory(boto3.session.Session())
    loaders = {id(f.session._session.get_component("data_loader")) for f in (first, second)}
    assert len(loaders) == 1
    assert isinstance(first.session._session.get_component("data_loader"), CompactLoader)
    a = first.client("sqs", "eu-west-1")
    b = second.client("sqs", "us-east-1")
    assert a.meta.service_model._service_description is b.meta.service_model._service_description


def test_clients_call_validate_and_raise_as_usual(aws: None) -> None:
    factory = ClientFactory(boto3.session.Session())
    sqs = factory.client("sqs", "eu-west-1")
    url = sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "60"
    with pytest.raises(ParamValidationError, match="QueueUrl"):
        sqs.get_queue_attributes(AttributeNames=["All"])
    with pytest.raises(ClientError) as raised:
        sqs.get_queue_url(QueueName="missing")
    assert raised.value.response["Error"]["Code"] in {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
    assert isinstance(raised.value, sqs.exceptions.QueueDoesNotExist)  # modeled errors come from the shapes
    lam = factory.client("lambda", "eu-west-1")
    pages = list(lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 50}))
    assert pages[0]["Functions"] == []


def test_an_unknown_shape_is_botocores_error() -> None:
    model = CompactLoader().load_service_model("sqs", "service-2")
    with pytest.raises(NoShapeFoundError):
        ServiceModel(model, "sqs").shape_for("NoSuchShape")


def test_aws_data_path_is_honoured(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    session = boto3.session.Session(region_name="us-east-1")
    service_models.install(session)
    loader = session._session.get_component("data_loader")
    assert str(tmp_path) in loader.search_paths


@pytest.mark.parametrize(
    ("service", "region"),
    [
        ("sqs", "eu-west-1"),
        ("lambda", "ap-southeast-2"),
        ("route53", "eu-west-1"),
        ("sts", "us-east-1"),
        ("s3", "cn-north-1"),
    ],
)
def test_endpoints_resolve_as_with_botocores_loader(service: str, region: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    plain, compact = boto3.session.Session(), boto3.session.Session()
    service_models.install(compact)
    ours, theirs = compact.client(service, region_name=region), plain.client(service, region_name=region)
    assert ours.meta.endpoint_url == theirs.meta.endpoint_url
    assert ours.meta.region_name == theirs.meta.region_name
    assert compact.get_available_regions(service) == plain.get_available_regions(service)
    assert compact.get_available_partitions() == plain.get_available_partitions()


def test_endpoint_regions_are_botocores_available_regions() -> None:
    partitions = ("aws", "aws-cn", "aws-us-gov")
    plain, compact = boto3.session.Session(), boto3.session.Session()
    for service, prefix in (("ec2", "ec2"), ("lambda", "lambda"), ("elbv2", "elasticloadbalancing")):
        expected = {r for p in partitions for r in plain.get_available_regions(service, partition_name=p)}
        assert service_models.endpoint_regions(compact, prefix, partitions) == expected
        assert "eu-west-1" in expected


def test_a_service_with_client_context_parameters_makes_clients(aws: None) -> None:
    # S3 declares clientContextParams, whose documentation botocore reads when it makes a client.
    factory = ClientFactory(boto3.session.Session())
    s3 = factory.client("s3", "us-east-1")
    s3.create_bucket(Bucket="context-params")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["context-params"]
