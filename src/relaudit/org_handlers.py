"""Lambda entry point of the organization fan-out: the state machine's list, item and finalize steps."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from relaudit import fanout
from relaudit.handlers import _catalog, _deadline, _factory, logger, metrics, tracer
from relaudit.models.org import FinalizeStep, ListStep
from relaudit.plan import select_checks
from relaudit.policy.apply import validate_against_catalog
from relaudit.policy.source import deployed_config

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from relaudit.policy.config import PolicyConfig

WORKERS = 16  # concurrent API units per invocation (AuditRequest's default)


def _deployed_policy() -> tuple[PolicyConfig, str]:
    """The policy file the single-account function reads (SSM parameter or packaged), at each step.

    Raises:
        ConfigError: It cannot be read or is invalid (names the field).
    """
    return deployed_config(os.environ, lambda: _factory(1).client("ssm"))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run the step ``event["step"]`` names and return its output to the state machine.

    Errors are raised (BadRequestError names the field): the state machine's Catch records them.
    """
    step = fanout.step_from_event(event)
    settings = fanout.OrgSettings.from_env(os.environ)
    factory = _factory(WORKERS)
    if isinstance(step, ListStep):
        config, source = _deployed_policy()
        validate_against_catalog(config, _catalog().checks, source)  # a bad file is refused before any item runs
        request = fanout.org_request(step.input, settings, os.environ)
        plan = fanout.plan_org_run(step, request, _catalog(), factory, settings.members(factory), settings=settings)
        metrics.add_metric(name="OrgItems", unit=MetricUnit.Count, value=len(plan.items))
        return plan.model_dump(mode="json")
    if isinstance(step, FinalizeStep):
        check_ids = [check.definition.id for check in select_checks(_catalog(), step.checks)]
        record = fanout.record_org_run(step, factory, settings.table, check_ids)
        metrics.add_metric(name="OrgCoverageGaps", unit=MetricUnit.Count, value=record["coverage_gap_count"])
        logger.info("org run finished", extra={"run_id": step.run_id, "result": record["result"]})
        return {"status": record["result"], "summary": record}
    members = settings.members(factory)
    config, _ = _deployed_policy()
    outcome = fanout.audit_item(
        step, _catalog(), factory, members, settings.table, deadline=_deadline(context), config=config
    )
    metrics.add_metric(name="CoverageGaps", unit=MetricUnit.Count, value=outcome["coverage_gaps"])
    logger.info("org item finished", extra=outcome)
    return outcome
