"""Property tests: any finding (long names, unicode, many references) maps to ASFF the service would accept."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaudit.ids import finding_id
from relaudit.models.check import References, Severity, Status
from relaudit.models.finding import Finding
from relaudit.sinks.asff import ASFF_RESOURCE_TYPES, MAX_FINDING_BYTES, encoded_size, iso, parse_iso, to_asff
from relaudit.sinks.securityhub import MAX_BATCH_FINDINGS, MAX_REQUEST_BYTES, batches
from tests.integration.sinks.helpers import assert_valid_asff

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1", "me-central-1"]
PARTITIONS = {"cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov"}


def _long(alphabet: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[str]:
    """Very long strings, cheap to draw: a short unicode piece repeated (up to ~12,000 characters)."""
    piece = alphabet if alphabet is not None else st.text(min_size=1, max_size=8)
    return st.builds(lambda text, times: text * times, piece, st.integers(min_value=100, max_value=1500))


# Any unicode text (hypothesis leaves out surrogates), including blank and very long strings.
texts = st.text(max_size=60) | _long()
names = st.text(max_size=40) | _long(st.text(alphabet="😀ü中\u200b\t ", min_size=1, max_size=8))
check_ids = st.from_regex(r"[a-z0-9]{1,30}(-[a-z0-9]{1,30}){1,6}", fullmatch=True)
resource_types = st.sampled_from(sorted(ASFF_RESOURCE_TYPES)) | st.from_regex(
    r"AWS::[A-Za-z0-9]{1,20}::[A-Za-z0-9]{1,30}", fullmatch=True
)
references = st.builds(
    References,
    securityhub=st.none() | texts,
    config_rule=st.none() | texts,
    prowler=st.none() | texts,
    trusted_advisor=st.none() | texts,
    service_screener=st.none() | texts,
)


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    account = draw(st.from_regex(r"\d{12}", fullmatch=True))
    region = draw(st.sampled_from(REGIONS))
    check = draw(check_ids)
    name = draw(names)
    resource_type = draw(resource_types)
    arn = f"arn:{PARTITIONS.get(region, 'aws')}:svc:{region}:{account}:" + draw(
        st.text(min_size=1, max_size=30) | _long()
    )
    return Finding(
        id=finding_id(account, region, check, arn),
        check_id=check,
        title=draw(texts),
        status=draw(st.sampled_from([Status.PASSED, Status.FAILED])),
        severity=draw(st.sampled_from(list(Severity))),
        resource_arn=arn,
        resource_type=resource_type,
        resource_name=name,
        region=region,
        account_id=account,
        best_practice=draw(st.from_regex(r"REL\d{2}-BP\d{2}", fullmatch=True)),
        reason=draw(texts),
        references=draw(references),
        remediation_text=draw(texts),
        remediation_url="https://example.com/" + draw(st.text(alphabet="abcdefgh/-_", max_size=300)),
    )


times = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1), timezones=st.just(dt.UTC))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings(), times, st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=400)), st.booleans())
def test_any_finding_maps_to_valid_asff(finding: Finding, first: dt.datetime, age: dt.timedelta, archive: bool) -> None:
    created, updated = iso(first), iso(first + age)
    asff = to_asff(finding, created_at=created, updated_at=updated, record_state="ARCHIVED" if archive else "ACTIVE")
    assert_valid_asff([asff])  # botocore's input shape and relaudit's ASFF model
    assert asff["Id"] == finding.id
    assert encoded_size(asff) <= MAX_FINDING_BYTES
    assert json.loads(json.dumps(asff)) == asff
    assert parse_iso(asff["UpdatedAt"]) >= parse_iso(asff["CreatedAt"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(findings(), min_size=1, max_size=25), st.integers(min_value=2, max_value=10))
def test_batches_respect_count_and_bytes(items: list[Finding], per_batch: int) -> None:
    now = iso(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    asffs: list[dict[str, Any]] = [to_asff(f, created_at=now, updated_at=now) for f in items]
    limit = max(encoded_size(a) for a in asffs) * 3  # small byte budget, so the byte rule really splits
    chunks = list(batches(asffs, max_count=per_batch, max_bytes=limit))
    assert [a["Id"] for chunk in chunks for a in chunk] == [a["Id"] for a in asffs]  # each once, in order
    for chunk in chunks:
        assert 1 <= len(chunk) <= per_batch
        assert len(json.dumps({"Findings": chunk})) <= limit
    assert MAX_BATCH_FINDINGS == 100 and MAX_REQUEST_BYTES == 6 * 1024 * 1024
