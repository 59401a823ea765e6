"""Lambda entry point: parse the event, run the audit, return the summary."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit

from relaudit.aws import ClientFactory, client_config
from relaudit.catalog.loader import Catalog, load_catalog
from relaudit.errors import BadRequestError
from relaudit.events import request_from_event
from relaudit.idempotency import idempotent_schedule
from relaudit.inventory import COLLECTORS
from relaudit.policy.source import deployed_config
from relaudit.report.publish import publish_reports, report_graphs
from relaudit.run import run

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from relaudit.models.request import AuditRequest

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "relaudit"))
copy_config_to_registered_loggers(source_logger=logger, include={"relaudit"})

_cache: dict[str, Any] = {}
FLUSH_MARGIN_ENV = "RELAUDIT_FLUSH_MARGIN_SECONDS"


def _catalog() -> Catalog:
    """Loaded once per execution environment (warm starts reuse it)."""
    if "catalog" not in _cache:
        _cache["catalog"] = load_catalog(known_types=COLLECTORS)
    catalog: Catalog = _cache["catalog"]
    return catalog


def _factory(max_workers: int) -> ClientFactory:
    """A lazily made client factory, reused across warm starts; no clients at import time."""
    key = f"factory-{max_workers}"
    if key not in _cache:
        _cache[key] = ClientFactory(config=client_config(max_workers=max_workers))
    factory: ClientFactory = _cache[key]
    return factory


def _deadline(context: LambdaContext) -> float:
    """When collection must stop: the time left minus a margin (env, else min(60 s, a quarter)) to flush."""
    remaining = context.get_remaining_time_in_millis() / 1000
    try:
        margin = float(os.environ[FLUSH_MARGIN_ENV])
    except (KeyError, ValueError):
        margin = min(60.0, remaining / 4)
    return time.monotonic() + remaining - margin


def _with_deployed_config(request: AuditRequest, event: dict[str, Any]) -> AuditRequest:
    """The request under the deployed policy file (SSM parameter or packaged), read on each invocation.

    Raises:
        BadRequestError: The event carries a policy of its own, or the deployed one is invalid.
    """
    if "config" in event:
        raise BadRequestError("config", "the policy comes from the deployment (stack parameter ConfigParameter)")
    config, _ = deployed_config(os.environ, lambda: _factory(1).client("ssm"))
    return request.model_copy(update={"config": config})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@idempotent_schedule(lambda: _factory(1).client("dynamodb"))  # scheduled events: once per firing
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Audit as the event asks (a schedule, or an on-demand AuditRequest) and return the summary."""
    try:
        request = _with_deployed_config(request_from_event(event), event)
        graphs = report_graphs(_catalog(), request.checks)  # kept for the report bucket's HTML only
        result = run(request, _catalog(), _factory(request.max_workers), deadline=_deadline(context), on_graph=graphs)
    except BadRequestError as exc:
        logger.warning("bad request", extra={"field": exc.field, "reason": exc.message})
        metrics.add_metric(name="BadRequests", unit=MetricUnit.Count, value=1)
        return {"status": "error", "error": {"field": exc.field, "message": exc.message}}
    summary = result.summary
    metrics.add_metric(name="FailedFindings", unit=MetricUnit.Count, value=summary.findings["FAILED"])
    metrics.add_metric(name="SuppressedFindings", unit=MetricUnit.Count, value=summary.suppressed)
    metrics.add_metric(name="CoverageGaps", unit=MetricUnit.Count, value=summary.coverage_gaps)
    metrics.add_metric(name="ResourcesAudited", unit=MetricUnit.Count, value=summary.resources)
    if summary.sinks:
        metrics.add_metric(name="UndeliveredFindings", unit=MetricUnit.Count, value=summary.undelivered_findings)
    logger.info("audit finished", extra={"summary": summary.model_dump(mode="json")})
    response: dict[str, Any] = {"status": summary.result, "summary": summary.model_dump(mode="json")}
    # Report bucket (template.yaml ReportBucket): HTML and OCSF reports; a failed write makes the response partial.
    reports = publish_reports(result, _factory(request.max_workers), request.table, graphs=graphs)
    if reports:
        response["reports"] = reports
        if "error" in reports:
            response["status"] = "partial"
            metrics.add_metric(name="ReportsNotWritten", unit=MetricUnit.Count, value=1)
    return response
