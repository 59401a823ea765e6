"""One seeded moto account for the whole fault suite, a clean audit of it, and faulty factories.

The account is seeded once per test process (package scope) by relaudit.demo.seed, and every test
here only reads it: faults are injected by botocore hooks on fresh sessions, never by changing the
account. The catalog is a fixed set of checks the seed plants passing and failing resources for
(seven resource types, Lambda enrichments included), loaded file by file: the suite's cost and its
baseline stay put however the seed and the built-in catalog grow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from relaudit.aws import ClientFactory, client_config
from relaudit.catalog.loader import Catalog, builtin_checks_dir, load_check
from relaudit.demo.moto_gaps import install_hooks
from relaudit.demo.seed import Planted, seed
from relaudit.inventory import COLLECTORS
from relaudit.models.finding import AuditResult
from relaudit.models.request import AuditRequest
from relaudit.run import run
from tests.support.fault_server import FaultServer
from tests.support.faults import Faults

REGIONS = ("us-east-1", "eu-west-1")
ACCOUNT = "123456789012"
CHECKS = (
    "apigateway-stage-throttling-configured",
    "apigatewayv2-stage-throttling-configured",
    "autoscaling-group-multi-az",
    "elbv2-load-balancer-multi-az",
    "lambda-function-async-failure-captured",
    "lambda-function-reserved-concurrency-set",
    "lambda-function-vpc-multi-az",
    "rds-db-instance-multi-az",
    "sqs-queue-redrive-policy-configured",
)
RELAUDIT = Path(sys.executable).with_name("relaudit")  # the console script of this venv

MakeFactory = Callable[..., ClientFactory]


@pytest.fixture(scope="package")
def account() -> Iterator[list[Planted]]:
    """The seeded account (read-only for every test in this package)."""
    from moto import mock_aws

    with mock_aws():
        session = boto3.session.Session()
        yield seed(lambda service, region: session.client(service, region_name=region), REGIONS)


@pytest.fixture(scope="package")
def check_ids(account: list[Planted]) -> list[str]:
    """CHECKS, each of which the seed planted resources for."""
    planted = {p.check_id for p in account}
    assert set(CHECKS) <= planted, f"the seed no longer plants {sorted(set(CHECKS) - planted)}"
    return sorted(CHECKS)


@pytest.fixture(scope="package")
def catalog(check_ids: list[str]) -> Catalog:
    """Exactly the seeded checks, loaded from the built-in check files."""
    directory = builtin_checks_dir()
    return Catalog(checks={i: load_check(directory / f"{i}.yaml", COLLECTORS) for i in check_ids})


@pytest.fixture(scope="package")
def make_factory(account: list[Planted]) -> MakeFactory:
    """make_factory(faults=None, max_attempts=5, session=None, **config) -> a ClientFactory.

    A fresh boto3 session per factory (or the one given, with its hooks already registered), so
    hooks installed for one test reach no other. Retries are the production ones (client_config's
    mode and backoff; 5 attempts) unless told otherwise. The APIs moto lacks are answered by
    relaudit.demo.moto_gaps, as in the demo account.
    """

    def make(faults: Faults | None = None, max_attempts: int = 5, session: Any = None, **config: Any) -> ClientFactory:
        session = session or boto3.session.Session()
        if faults is not None:
            faults.install(session)
        factory = ClientFactory(session=session, config=client_config(4, max_attempts=max_attempts, **config))
        install_hooks(factory, REGIONS)
        return factory

    return make


@pytest.fixture(scope="package")
def audit(catalog: Catalog) -> Callable[..., AuditResult]:
    """audit(factory, regions=REGIONS, **run_kwargs): run the seeded checks."""

    def go(factory: ClientFactory, regions: tuple[str, ...] = REGIONS, **kwargs: Any) -> AuditResult:
        request = AuditRequest(regions=list(regions), checks=sorted(catalog.checks), max_workers=4)
        return run(request, catalog, factory, **kwargs)

    return go


@pytest.fixture(scope="package")
def clean(audit: Callable[..., AuditResult], make_factory: MakeFactory) -> AuditResult:
    """The audit with no fault injected: what every faulty run is compared with."""
    result = audit(make_factory())
    assert result.coverage_gaps == [], "the clean baseline must be complete"
    return result


def findings_of(result: AuditResult) -> list[dict[str, Any]]:
    """Findings as plain dicts (comparable across runs)."""
    return [finding.model_dump(mode="json") for finding in result.findings]


@pytest.fixture(scope="package")
def fault_server() -> Iterator[FaultServer]:
    """A moto server seeded by relaudit.demo.seed in its own process, behind the fault middleware."""
    env = {key: value for key, value in os.environ.items() if key != "AWS_ENDPOINT_URL"}
    server = FaultServer(REGIONS, env)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def served(fault_server: FaultServer) -> Iterator[FaultServer]:
    """The fault server with no fault planned, before and after the test."""
    fault_server.plan()
    yield fault_server
    fault_server.plan()


def cli_env(endpoint: str, **extra: str) -> dict[str, str]:
    """The environment a `relaudit` subprocess gets: the fake credentials, pointed at ``endpoint``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("RELAUDIT_", "PYTEST_"))}
    return {**env, "AWS_ENDPOINT_URL": endpoint, **extra}


def relaudit(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed `relaudit` entry point (.venv/bin/relaudit) and capture its output."""
    return subprocess.run([str(RELAUDIT), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)
