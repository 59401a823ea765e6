"""`python -m relaudit.demo`: audit an embedded, seeded AWS account (moto on 127.0.0.1)."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3

from relaudit import cli
from relaudit.demo.seed import DEMO_REGIONS, ClientMaker, seed
from relaudit.sinks.dynamodb import FindingsTable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

DEMO_TABLE = "relaudit-demo-findings"
SINK_ARGS = ["--sink", "securityhub", "--sink", "dynamodb", "--table", DEMO_TABLE, "--create-table"]
DEMO_ENV = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}


@contextmanager
def embedded_account(wrap: Callable[[Any], Any] | None = None) -> Iterator[str]:
    """Serve moto on 127.0.0.1 (never 0.0.0.0), behind the answers for APIs moto lacks; yield the URL.

    Built from the parts of moto's ThreadedMotoServer (its app and request handler, werkzeug's
    threaded server) so :class:`~relaudit.demo.moto_gaps.MotoGapsMiddleware` can sit in front.

    Args:
        wrap: An outer WSGI middleware factory (tests put fault injection there); None for none.
    """
    from moto.moto_api._internal.models import moto_api_backend
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from relaudit.demo.moto_gaps import MotoGapsMiddleware

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # moto's backends are the process's: a new account starts empty, whatever an earlier one held.
    moto_api_backend.reset()
    app = MotoGapsMiddleware(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, wrap(app) if wrap else app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="embedded-aws", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def enable_security_hub(client: ClientMaker) -> None:
    """Turn Security Hub on in the demo regions (the real service refuses imports where it is off)."""
    for region in DEMO_REGIONS:
        client("securityhub", region).enable_security_hub(EnableDefaultStandards=False)


def show_what_landed(client: ClientMaker, samples: int = 3) -> str:
    """What the sinks hold now: Security Hub counts per region and a few findings; the table's counts."""
    lines = ["What landed in Security Hub:"]
    shown: list[dict[str, Any]] = []
    for region in DEMO_REGIONS:
        paginator = client("securityhub", region).get_paginator("get_findings")
        findings = [f for page in paginator.paginate() for f in page["Findings"]]
        states = Counter(f"{f['Compliance']['Status']}/{f['RecordState']}" for f in findings)
        lines.append(
            f"  {region}: {len(findings)} findings ({', '.join(f'{n} {k}' for k, n in sorted(states.items()))})"
        )
        shown.extend(f for f in findings if f["Compliance"]["Status"] == "FAILED")
    shown.sort(
        key=lambda f: (-["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"].index(f["Severity"]["Label"]), f["Id"])
    )
    for finding in shown[:samples]:
        resource = finding["Resources"][0]
        lines.append(
            f"  - [{finding['Severity']['Label']}] {finding['Title']}\n"
            f"      Id {finding['Id']}\n      {resource['Type']} {resource['Id']}"
        )
    table = FindingsTable(client("dynamodb", DEMO_REGIONS[0]), DEMO_TABLE)
    counts = {status: len(table.by_status(status)) for status in ("FAILED", "PASSED", "NOT_APPLICABLE", "ARCHIVED")}
    (latest,) = table.runs(limit=1) or [{}]
    lines.append(
        f"What landed in DynamoDB table {DEMO_TABLE}: "
        + ", ".join(f"{n} {status}" for status, n in counts.items())
        + f"; latest run {latest.get('run_id')} ({latest.get('result')})"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Seed the embedded account, audit it with the real CLI, and return the CLI's exit code."""
    for key, value in DEMO_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.pop("AWS_PROFILE", None)
    with embedded_account() as endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        session = boto3.session.Session()

        def client(service: str, region: str) -> Any:
            make: Any = session.client
            return make(service, region_name=region)

        started = time.monotonic()
        planted = seed(client)
        print(
            f"Embedded AWS account at {endpoint}: seeded {len({(p.region, p.name) for p in planted})} "
            f"resources over {len(DEMO_REGIONS)} regions in {time.monotonic() - started:.1f}s.\n",
            file=sys.stderr,
        )
        enable_security_hub(client)
        args = ["audit", "--regions", ",".join(DEMO_REGIONS), *SINK_ARGS, *(argv or [])]
        print(f"$ relaudit {' '.join(args)}\n", file=sys.stderr)
        code = cli.main(args)
        print("\n" + show_what_landed(client))
    print(f"\nrelaudit exited with {code}.", file=sys.stderr)
    return 0 if code in (cli.EXIT_OK, cli.EXIT_FAILED) else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
