"""Map a finding to the AWS Security Finding Format (pure), and the ASFF model that enforces it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from relaudit.models.check import Severity, Status

if TYPE_CHECKING:
    from relaudit.models.finding import Finding

SCHEMA_VERSION = "2018-10-08"
PRODUCT_NAME = "relaudit"
COMPANY_NAME = "relaudit"
GENERATOR_PREFIX = "relaudit/"
FINDING_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards/AWS Well-Architected Reliability"
MAX_FINDING_BYTES = 240 * 1024  # Security Hub rejects a finding larger than 240 KB
TIME_FIELDS = ("CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt")
# Timestamps change on every import; the content hash leaves them out so "unchanged" means the same verdict.
_VOLATILE_FIELDS = frozenset({"UpdatedAt", "LastObservedAt"})

RecordState = Literal["ACTIVE", "ARCHIVED"]
ComplianceStatus = Literal["PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"]

# CloudFormation type -> ASFF resource type (a member of botocore's ResourceDetails; a test holds it there).
ASFF_RESOURCE_TYPES: dict[str, str] = {
    "AWS::AmazonMQ::Broker": "AwsAmazonMqBroker",
    "AWS::ApiGateway::RestApi": "AwsApiGatewayRestApi",
    "AWS::ApiGateway::Stage": "AwsApiGatewayStage",
    "AWS::ApiGatewayV2::Api": "AwsApiGatewayV2Api",
    "AWS::ApiGatewayV2::Stage": "AwsApiGatewayV2Stage",
    "AWS::AutoScaling::AutoScalingGroup": "AwsAutoScalingAutoScalingGroup",
    "AWS::AutoScaling::LaunchConfiguration": "AwsAutoScalingLaunchConfiguration",
    "AWS::Backup::BackupPlan": "AwsBackupBackupPlan",
    "AWS::Backup::BackupVault": "AwsBackupBackupVault",
    "AWS::CloudFormation::Stack": "AwsCloudFormationStack",
    "AWS::CloudFront::Distribution": "AwsCloudFrontDistribution",
    "AWS::CloudWatch::Alarm": "AwsCloudWatchAlarm",
    "AWS::DMS::ReplicationInstance": "AwsDmsReplicationInstance",
    "AWS::DynamoDB::Table": "AwsDynamoDbTable",
    "AWS::EC2::Instance": "AwsEc2Instance",
    "AWS::EC2::LaunchTemplate": "AwsEc2LaunchTemplate",
    "AWS::EC2::Subnet": "AwsEc2Subnet",
    "AWS::EC2::Volume": "AwsEc2Volume",
    "AWS::EC2::VPC": "AwsEc2Vpc",
    "AWS::EC2::VPNConnection": "AwsEc2VpnConnection",
    "AWS::ECS::Cluster": "AwsEcsCluster",
    "AWS::ECS::Service": "AwsEcsService",
    "AWS::ECS::TaskDefinition": "AwsEcsTaskDefinition",
    "AWS::EFS::AccessPoint": "AwsEfsAccessPoint",
    "AWS::EKS::Cluster": "AwsEksCluster",
    "AWS::IAM::Role": "AwsIamRole",
    "AWS::ElasticBeanstalk::Environment": "AwsElasticBeanstalkEnvironment",
    "AWS::ElasticLoadBalancing::LoadBalancer": "AwsElbLoadBalancer",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "AwsElbv2LoadBalancer",
    "AWS::Elasticsearch::Domain": "AwsElasticsearchDomain",
    "AWS::Events::EventBus": "AwsEventsEventbus",
    "AWS::Kinesis::Stream": "AwsKinesisStream",
    "AWS::Lambda::Function": "AwsLambdaFunction",
    "AWS::MSK::Cluster": "AwsMskCluster",
    "AWS::Neptune::DBCluster": "AwsRdsDbCluster",  # Neptune clusters are RDS clusters (Security Hub's own controls)
    "AWS::OpenSearchService::Domain": "AwsOpenSearchServiceDomain",
    "AWS::RDS::DBCluster": "AwsRdsDbCluster",
    "AWS::RDS::DBInstance": "AwsRdsDbInstance",
    "AWS::Redshift::Cluster": "AwsRedshiftCluster",
    "AWS::Route53::HostedZone": "AwsRoute53HostedZone",
    "AWS::S3::Bucket": "AwsS3Bucket",
    "AWS::SNS::Topic": "AwsSnsTopic",
    "AWS::SQS::Queue": "AwsSqsQueue",
    "AWS::StepFunctions::StateMachine": "AwsStepFunctionStateMachine",
}
OTHER = "Other"

_ISO_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
_TYPE_RE = (
    r"^(Software and Configuration Checks|TTPs|Effects|Unusual Behaviors|Sensitive Data Identifications)"
    r"(/[^/]+){0,2}$"
)
_PRODUCT_ARN_RE = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):securityhub:([a-z0-9-]+):(\d{12}):product/(\d{12})/default$"
)
_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


def iso(moment: dt.datetime) -> str:
    """ASFF timestamp: UTC, millisecond precision, ``Z`` suffix (fixed width, so strings sort as times)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> dt.datetime:
    """Parse a timestamp written by :func:`iso` (or any ISO 8601 with offset) into an aware datetime."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def clip(text: str, limit: int) -> str:
    """Shorten ``text`` to at most ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _nonblank(text: str, fallback: str) -> str:
    return text if text.strip() else fallback


def asff_resource_type(cfn_type: str) -> str:
    """The ASFF resource type for a CloudFormation type name, ``Other`` when ASFF has none."""
    return ASFF_RESOURCE_TYPES.get(cfn_type, OTHER)


def partition_of(arn: str) -> str:
    """The partition named in an ARN (``aws`` when the ARN does not say)."""
    parts = arn.split(":", 2)
    return parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] in _PARTITIONS else "aws"


def product_arn(partition: str, region: str, account_id: str) -> str:
    """The default product ARN under which an account imports its own findings."""
    return f"arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default"


def _product_fields(finding: Finding) -> dict[str, str]:
    fields = {
        "relaudit/CheckId": finding.check_id,
        "relaudit/Pillar": "Reliability",
        "relaudit/BestPractice": finding.best_practice,
        "relaudit/Status": finding.status.value,
        "relaudit/ResourceType": finding.resource_type,
        "relaudit/ResourceName": finding.resource_name,
    }
    for tool, reference in sorted(finding.references.model_dump(exclude_none=True).items()):
        fields[f"relaudit/References/{tool}"] = str(reference)
    return {key[:128]: clip(value, 2048) for key, value in fields.items() if value.strip()}


_MAX_RESOURCES = 32  # ASFF's limit per finding


def _path_resources(finding: Finding, partition: str) -> list[dict[str, Any]]:
    """A graph finding's other path resources (ASFF lists a finding's related resources beside its own)."""
    others = [arn for arn in dict.fromkeys(finding.path or []) if arn != finding.resource_arn]
    return [
        {"Type": OTHER, "Id": arn, "Partition": partition, "Region": (arn.split(":")[3:4] or [""])[0] or finding.region}
        for arn in others[: _MAX_RESOURCES - 1]
    ]


def _compliance_status(status: Status, record_state: RecordState) -> ComplianceStatus:
    if status is Status.UNKNOWN:
        raise ValueError("an UNKNOWN finding is never sent to Security Hub")
    if status is Status.NOT_APPLICABLE:
        if record_state != "ARCHIVED":
            raise ValueError("a NOT_APPLICABLE finding is never sent to Security Hub active")
        return "NOT_AVAILABLE"
    return "PASSED" if status is Status.PASSED else "FAILED"


def to_asff(
    finding: Finding,
    *,
    created_at: str,
    updated_at: str,
    last_observed_at: str | None = None,
    record_state: RecordState = "ACTIVE",
) -> dict[str, Any]:
    """Map ``finding`` to one ASFF finding for BatchImportFindings.

    The ASFF ``Id`` is the finding's id (one identity in the JSON output, Security Hub and
    DynamoDB). A PASSED finding keeps its check's severity in ``Severity.Original`` and is labelled
    INFORMATIONAL, as Security Hub labels its own passed controls. NOT_APPLICABLE is only ever
    mapped to retire a finding Security Hub already holds: Compliance NOT_AVAILABLE, ARCHIVED.

    Args:
        finding: The finding to map.
        created_at: When the finding was first seen (CreatedAt and FirstObservedAt), ISO 8601.
        updated_at: This import's time; must be later than any UpdatedAt sent before for this Id.
        last_observed_at: When the resource was last seen in this state (defaults to ``updated_at``).
        record_state: ``ARCHIVED`` when the resource is gone or the check no longer applies.

    Raises:
        ValueError: ``finding`` is UNKNOWN, or NOT_APPLICABLE and ``record_state`` is ACTIVE.
    """
    compliance = _compliance_status(finding.status, record_state)
    partition = partition_of(finding.resource_arn)
    label = Severity.INFORMATIONAL.value if finding.status is Status.PASSED else finding.severity.value
    severity = {"Label": label, "Original": finding.severity.value}
    types = [FINDING_TYPE]
    resource_name = _nonblank(finding.resource_name, finding.resource_arn)
    description = _nonblank(finding.reason, f"{resource_name}: {finding.title}")
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding.id,
        "ProductArn": product_arn(partition, finding.region, finding.account_id),
        "ProductName": PRODUCT_NAME,
        "CompanyName": COMPANY_NAME,
        "GeneratorId": clip(GENERATOR_PREFIX + finding.check_id, 512),
        "AwsAccountId": finding.account_id,
        "Region": finding.region,
        "Types": types,
        "CreatedAt": created_at,
        "UpdatedAt": updated_at,
        "FirstObservedAt": created_at,
        "LastObservedAt": last_observed_at or updated_at,
        "Severity": severity,
        "Title": clip(_nonblank(finding.title, finding.check_id), 256),
        "Description": clip(description, 1024),
        "Remediation": {
            "Recommendation": {
                "Text": clip(_nonblank(finding.remediation_text, "See the URL."), 512),
                "Url": finding.remediation_url,
            }
        },
        "ProductFields": _product_fields(finding),
        "Resources": [
            {
                "Type": asff_resource_type(finding.resource_type),
                "Id": finding.resource_arn,
                "Partition": partition,
                "Region": finding.region,
                "Details": {"Other": {"Name": clip(resource_name, 1024), "Type": clip(finding.resource_type, 1024)}},
            },
            *_path_resources(finding, partition),
        ],
        "Compliance": {
            "Status": compliance,
            "RelatedRequirements": [clip(f"AWS Well-Architected Framework {finding.best_practice}", 256)],
        },
        "RecordState": record_state,
        "FindingProviderFields": {"Severity": dict(severity), "Types": list(types)},
    }


def content_hash(asff: dict[str, Any]) -> str:
    """A digest of what an ASFF finding says, leaving out the per-import timestamps.

    Two imports with the same hash differ only in UpdatedAt/LastObservedAt: the re-send policy
    skips such a finding unless its last import is older than the refresh interval.
    """
    stable = {key: value for key, value in asff.items() if key not in _VOLATILE_FIELDS}
    encoded = json.dumps(stable, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


def encoded_size(asff: dict[str, Any]) -> int:
    """Bytes the finding takes in a BatchImportFindings request body.

    botocore's rest-json serializer writes ``json.dumps(body)``: default separators and ASCII
    escapes, so a non-ASCII character costs 6 or 12 bytes on the wire, more than in UTF-8.
    """
    return len(json.dumps(asff))


# --- The ASFF model: what the real service enforces and moto/botocore do not -------------------

_Text = Annotated[str, Field(min_length=1, pattern=r"\S")]
_Iso = Annotated[str, Field(pattern=_ISO_RE)]
_Label = Literal["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
_AsffType = Annotated[str, Field(pattern=_TYPE_RE, max_length=512)]


class _Asff(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AsffSeverity(_Asff):
    """Severity (top level and in FindingProviderFields)."""

    Label: _Label
    Original: Annotated[_Text, Field(max_length=64)]


class AsffRecommendation(_Asff):
    """Remediation text and URL."""

    Text: Annotated[_Text, Field(max_length=512)]
    Url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2048)]


class AsffRemediation(_Asff):
    """Remediation wrapper."""

    Recommendation: AsffRecommendation


class AsffResourceDetails(_Asff):
    """Resource details: only the free-form ``Other`` map (string keys and values)."""

    Other: Annotated[
        dict[Annotated[_Text, Field(max_length=128)], Annotated[_Text, Field(max_length=1024)]], Field(max_length=50)
    ]


class AsffResource(_Asff):
    """One affected resource."""

    Type: Annotated[_Text, Field(max_length=256)]
    Id: _Text
    Partition: Literal["aws", "aws-cn", "aws-us-gov"]
    Region: Annotated[_Text, Field(max_length=16)]
    Details: AsffResourceDetails | None = None

    @field_validator("Type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value != OTHER and value not in ASFF_RESOURCE_TYPES.values():
            raise ValueError(f"'{value}' is not an ASFF resource type relaudit maps to")
        return value


class AsffCompliance(_Asff):
    """Compliance verdict."""

    Status: ComplianceStatus
    RelatedRequirements: Annotated[list[Annotated[_Text, Field(max_length=256)]], Field(max_length=32)] = []


class AsffProviderFields(_Asff):
    """What the finding provider says (Security Hub keeps user overrides at the top level)."""

    Severity: AsffSeverity
    Types: Annotated[list[_AsffType], Field(min_length=1, max_length=50)]


class AsffFinding(_Asff):
    """The subset of AwsSecurityFinding relaudit sends, with the constraints the real service applies.

    botocore's model only requires a few members and checks types (Severity and Types are not
    required there; the real service rejects a finding without them), and moto validates almost
    nothing, so this model is the contract tests hold the mapper to.
    """

    SchemaVersion: Literal["2018-10-08"]
    Id: Annotated[_Text, Field(max_length=512)]
    ProductArn: Annotated[str, Field(pattern=_PRODUCT_ARN_RE.pattern)]
    ProductName: Annotated[_Text, Field(max_length=128)]
    CompanyName: Annotated[_Text, Field(max_length=128)]
    GeneratorId: Annotated[_Text, Field(max_length=512)]
    AwsAccountId: Annotated[str, Field(pattern=r"^\d{12}$")]
    Region: Annotated[_Text, Field(max_length=16)]
    Types: Annotated[list[_AsffType], Field(min_length=1, max_length=50)]
    CreatedAt: _Iso
    UpdatedAt: _Iso
    FirstObservedAt: _Iso
    LastObservedAt: _Iso
    Severity: AsffSeverity
    Title: Annotated[_Text, Field(max_length=256)]
    Description: Annotated[_Text, Field(max_length=1024)]
    Remediation: AsffRemediation
    ProductFields: Annotated[
        dict[Annotated[_Text, Field(max_length=128)], Annotated[_Text, Field(max_length=2048)]], Field(max_length=50)
    ]
    Resources: Annotated[list[AsffResource], Field(min_length=1, max_length=32)]
    Compliance: AsffCompliance
    RecordState: RecordState
    FindingProviderFields: AsffProviderFields

    @model_validator(mode="after")
    def _consistent(self) -> AsffFinding:
        match = _PRODUCT_ARN_RE.match(self.ProductArn)
        if match is None or match.group(2) != self.Region or not match.group(3) == match.group(4) == self.AwsAccountId:
            raise ValueError("ProductArn must name the finding's own region and account")
        created, updated = parse_iso(self.CreatedAt), parse_iso(self.UpdatedAt)
        if updated < created:
            raise ValueError("UpdatedAt is earlier than CreatedAt")
        if parse_iso(self.LastObservedAt) < parse_iso(self.FirstObservedAt):
            raise ValueError("LastObservedAt is earlier than FirstObservedAt")
        if self.Compliance.Status == "NOT_AVAILABLE" and self.RecordState != "ARCHIVED":
            raise ValueError("relaudit sends NOT_AVAILABLE only to archive a finding that no longer applies")
        return self


def asff_problems(asff: dict[str, Any]) -> list[str]:
    """What is wrong with an ASFF finding by the real service's rules (empty when valid).

    Checks the :class:`AsffFinding` model and the 240 KB per-finding limit.
    """
    from pydantic import ValidationError

    problems: list[str] = []
    try:
        AsffFinding.model_validate(asff)
    except ValidationError as exc:
        problems.extend(
            f"{'.'.join(str(part) for part in error['loc']) or 'finding'}: {error['msg']}" for error in exc.errors()
        )
    size = encoded_size(asff)
    if size > MAX_FINDING_BYTES:
        problems.append(f"finding is {size} bytes, over Security Hub's {MAX_FINDING_BYTES}")
    return problems
