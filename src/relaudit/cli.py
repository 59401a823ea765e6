"""The `relaudit` command line: `relaudit audit`, `relaudit graph`, `relaudit checks` and `relaudit report`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from relaudit import __version__
from relaudit.aws import ClientFactory, client_config, error_code
from relaudit.catalog.loader import Catalog, load_catalog
from relaudit.errors import BadRequestError, RelauditError
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Severity
from relaudit.models.request import SECRET_FIELDS, AuditRequest
from relaudit.policy.apply import validate_against_catalog
from relaudit.policy.config import PolicyConfig, load_config
from relaudit.report import html, ocsf, terminal
from relaudit.report.graph_capture import GraphCapture, graph_check_selected
from relaudit.report.progress import RunProgress, call_counts
from relaudit.report.trend import DEFAULT_SINCE, Trend, load_trend, parse_since
from relaudit.run import run
from relaudit.sinks import local

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

    from relaudit.models.finding import AuditResult

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_PARTIAL = 0, 1, 2, 3
EXTERNAL_ID_ENV = "RELAUDIT_EXTERNAL_ID"
_FLAGS = {"role_name": "--role", "org": "--org"}  # request fields whose flag is not --<field>


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error and exit code 2 (no usage dump)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No prefix matching: `--region` must not silently mean `--regions`.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"relaudit: error: {message}\n")


def _csv(value: str) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got '{value}'")
    return items


def _severity(value: str) -> Severity:
    try:
        return Severity(value.upper())
    except ValueError:
        choices = ", ".join(s.value for s in Severity)
        raise argparse.ArgumentTypeError(f"invalid severity '{value}' (choose from {choices})") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for docs and tests)."""
    parser = _Parser(prog="relaudit", description="Audit AWS accounts against the Reliability pillar.")
    parser.add_argument("--version", action="version", version=f"relaudit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    audit = commands.add_parser("audit", help="audit the account of the current AWS credentials (or others)")
    audit.add_argument("--regions", type=_csv, default=[], help="comma-separated (default: all enabled)")
    audit.add_argument("--checks", type=_csv, default=[], help="comma-separated check ids (default: all)")
    audit.add_argument(
        "--format", choices=("table", "json", "html", "ocsf"), default="table", help="table (default), json, html, ocsf"
    )
    audit.add_argument("--output", type=Path, help="write the report to this file instead of stdout")
    audit.add_argument("--fail-on", type=_severity, help="exit 1 if a FAILED finding is at or above this")
    audit.add_argument("--checks-dir", type=Path, action="append", default=[], help="extra check files")
    audit.add_argument("--config", type=Path, help="policy file: suppressions with a reason and expiry, tiers")
    audit.add_argument("--max-workers", type=int, default=16, help="concurrent API units (default 16)")
    audit.add_argument("--show-passed", action="store_true", help="table: list PASSED findings too")
    audit.add_argument("--show-not-applicable", action="store_true", help="table: list N/A findings")
    audit.add_argument(
        "--sink",
        dest="sinks",
        choices=("securityhub", "dynamodb"),
        action="append",
        default=[],
        help="publish findings there (repeatable); both keep their lifecycle state in --table",
    )
    audit.add_argument("--table", help="the DynamoDB findings table (needed by every sink)")
    audit.add_argument("--create-table", action="store_true", help="create --table if it does not exist")
    audit.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    org = audit.add_argument_group("other accounts (each through sts:AssumeRole; see member-role.yaml)")
    scope = org.add_mutually_exclusive_group()
    scope.add_argument("--org", action="store_true", help="every active account of the organization")
    scope.add_argument("--accounts", type=_csv, default=[], metavar="A,B", help="these account ids")
    org.add_argument("--role", dest="role_name", metavar="NAME", help="the role to assume in each account")
    org.add_argument(
        "--external-id", metavar="X", help=f"the role's ExternalId (default: ${EXTERNAL_ID_ENV}; never printed)"
    )
    org.add_argument("--include-accounts", type=_csv, default=[], metavar="A,B", help="only these accounts")
    org.add_argument("--exclude-accounts", type=_csv, default=[], metavar="A,B", help="never these accounts")

    graph = commands.add_parser("graph", help="print the workload graph: resources, how they interact, workloads")
    graph.add_argument("--regions", type=_csv, default=[], help="comma-separated (default: all enabled)")
    graph.add_argument("--workload-tag", metavar="KEY", help="a tag key whose value names a resource's workload")
    graph.add_argument("--format", choices=("json", "dot", "mermaid"), default="json")
    graph.add_argument("--output", type=Path, help="write the graph to this file instead of stdout")
    graph.add_argument("--max-workers", type=int, default=16, help="concurrent API units (default 16)")
    graph.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")

    checks = commands.add_parser("checks", help="list the checks")
    checks.add_argument("--format", choices=("table", "json"), default="table")
    checks.add_argument("--checks-dir", type=Path, action="append", default=[], help="extra check files")

    report = commands.add_parser("report", help="the trend of the runs recorded in a findings table")
    report.add_argument("--table", required=True, type=_table_name, help="the DynamoDB findings table")
    report.add_argument("--since", default=DEFAULT_SINCE, help=f"how far back: 30d, 12h, 2w (default {DEFAULT_SINCE})")
    report.add_argument("--format", choices=("table", "json", "html"), default="table")
    report.add_argument("--output", type=Path, help="write the report to this file instead of stdout")
    return parser


def _table_name(value: str) -> str:
    if not re.fullmatch(r"[a-zA-Z0-9_.-]{3,255}", value):
        raise argparse.ArgumentTypeError(f"invalid table name {value!r:.60} (3-255 of a-z, A-Z, 0-9, _ . -)")
    return value


def _load(extra: list[Path]) -> Catalog:
    catalog = load_catalog(extra_dirs=extra, known_types=COLLECTORS)
    for problem in catalog.problems:
        print(f"relaudit: warning: skipped check: {problem}", file=sys.stderr)
    return catalog


def exit_code(result: AuditResult, fail_on: Severity | None) -> int:
    """0 done; 1 a FAILED finding at or above ``fail_on``; 3 partial. A failing gate wins over
    partial because it is a definite answer; partial alone says the answer is incomplete."""
    summary = result.summary
    # FAILED findings by severity, less the suppressed ones: an exception with a reason does not fail a gate.
    suppressed = summary.suppressed_by_severity
    failed = {sev: count - suppressed.get(sev, 0) for sev, count in summary.failed_by_severity.items()}
    if fail_on is not None and any(count > 0 and Severity(sev).rank >= fail_on.rank for sev, count in failed.items()):
        return EXIT_FAILED
    if summary.result == "partial":
        return EXIT_PARTIAL
    return EXIT_OK


def _request(args: argparse.Namespace) -> AuditRequest:
    config = load_config(args.config, f"--config {args.config}") if args.config else PolicyConfig()
    try:
        return AuditRequest(
            config=config,
            regions=args.regions,
            checks=args.checks,
            max_workers=args.max_workers,
            sinks=args.sinks,
            table=args.table,
            org=args.org,
            accounts=args.accounts,
            include_accounts=args.include_accounts,
            exclude_accounts=args.exclude_accounts,
            role_name=args.role_name,
            external_id=args.external_id or (os.environ.get(EXTERNAL_ID_ENV) or None if args.role_name else None),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0])
        field = _FLAGS.get(name, "--" + name.replace("_", "-"))
        value = first.get("input")
        secret = name in SECRET_FIELDS
        got = f" (got {value!r:.60})" if first["type"] != "missing" and value is not None and not secret else ""
        raise BadRequestError(field, first["msg"].removeprefix("Value error, ") + got) from None


def _check_output(path: Path | None) -> None:
    """Refuse an --output that cannot be written before auditing (and publishing), not after."""
    if path is None:
        return
    if path.is_dir():
        raise BadRequestError("--output", f"'{path}' is a directory")
    if not path.parent.is_dir():
        raise BadRequestError("--output", f"directory '{path.parent}' does not exist")


def _audit(args: argparse.Namespace) -> int:
    request = _request(args)
    _check_output(args.output)
    catalog = _load(args.checks_dir)
    if args.config:
        validate_against_catalog(request.config, catalog.checks, f"--config {args.config}")
    factory = ClientFactory(config=client_config(max_workers=request.max_workers))
    if args.create_table:
        if not request.table:
            raise BadRequestError("--create-table", "name the table with --table NAME")
        from relaudit.sinks.dynamodb import ensure_table  # only with --create-table

        if ensure_table(factory.client("dynamodb"), request.table):
            print(f"relaudit: created table {request.table} in {factory.home_region}", file=sys.stderr)
    # Only the HTML report draws the workload graph: other formats keep no graph past its checks.
    graphs = GraphCapture(graph_check_selected(catalog, request.checks)) if args.format == "html" else None
    with RunProgress(lambda: call_counts(factory.limiter)) as progress:
        result = run(request, catalog, factory, progress if progress.enabled else None, on_graph=graphs)
    trend = _audit_trend(factory, request.table) if args.format == "html" and request.table else None
    graph = graphs.document() if graphs is not None else None
    _emit(args.output, lambda out: _report(result, args, out, trend, graph))
    return exit_code(result, args.fail_on)


def _emit(path: Path | None, write: Callable[[TextIO], object]) -> None:
    """Write a report to ``path`` (saying so on stderr), or to stdout."""
    if not path:
        write(sys.stdout)
        return
    try:
        with path.open("w", encoding="utf-8") as out:
            write(out)
    except OSError as exc:
        raise RelauditError(f"--output: cannot write '{path}': {exc.strerror or exc}") from exc
    print(f"relaudit: wrote {path}", file=sys.stderr)


def _report(
    result: AuditResult,
    args: argparse.Namespace,
    out: TextIO,
    trend: Trend | None = None,
    graph: dict[str, Any] | None = None,
) -> None:
    """JSON and OCSF are streamed finding by finding: at 10,000 resources the whole text is tens of MB."""
    if args.format == "json":
        local.write_result_json(result, out)
    elif args.format == "ocsf":
        ocsf.write_events(result, out)
    elif args.format == "html":
        out.write(html.render(result, trend, graph=graph))
    else:
        terminal.render(result, out, show_passed=args.show_passed, show_not_applicable=args.show_not_applicable)
        return
    out.write("\n")


def _graph(args: argparse.Namespace) -> int:
    from relaudit.graph.export import FORMATS
    from relaudit.graph_collect import collect_graph  # networkx only for this command

    if args.workload_tag is not None and not args.workload_tag.strip():
        raise BadRequestError("--workload-tag", "expected a tag key, got an empty string")
    try:
        request = AuditRequest(regions=args.regions, max_workers=args.max_workers)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadRequestError("--" + str(first["loc"][0]).replace("_", "-"), first["msg"]) from None
    _check_output(args.output)
    factory = ClientFactory(config=client_config(max_workers=request.max_workers))
    result = collect_graph(request, _load([]), factory, args.workload_tag)
    text = FORMATS[args.format](result.graphs) + "\n"
    for gap in result.coverage_gaps:
        print(
            f"relaudit: warning: not read: {gap.account_id}/{gap.region}/{gap.resource_type}: {gap.error_code}",
            file=sys.stderr,
        )
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise RelauditError(f"--output: cannot write '{args.output}': {exc.strerror or exc}") from exc
    else:
        sys.stdout.write(text)
    return EXIT_PARTIAL if result.coverage_gaps else EXIT_OK


def _read_trend(factory: ClientFactory, table: str, since: str) -> Trend:
    try:
        return load_trend(factory.client("dynamodb"), table, parse_since(since))
    except ClientError as exc:
        code = error_code(exc)
        if code == "ResourceNotFoundException":
            raise BadRequestError("--table", f"table '{table}' does not exist in {factory.home_region}") from None
        raise RelauditError(f"cannot read table {table}: {code}") from exc
    except BotoCoreError as exc:
        raise RelauditError(f"cannot read table {table}: {exc}") from exc


def _audit_trend(factory: ClientFactory, table: str) -> Trend | None:
    """The HTML report's trend section; a table that cannot be read leaves it out, with a warning."""
    try:
        return _read_trend(factory, table, DEFAULT_SINCE)
    except RelauditError as exc:
        print(f"relaudit: warning: the report has no trend: {exc}", file=sys.stderr)
        return None


def _trend_report(args: argparse.Namespace) -> int:
    try:
        parse_since(args.since)
    except ValueError as exc:
        raise BadRequestError("--since", str(exc)) from None
    _check_output(args.output)
    factory = ClientFactory(config=client_config(max_workers=4))
    trend = _read_trend(factory, args.table, args.since)
    if args.format == "json":
        _emit(args.output, lambda out: out.write(json.dumps(trend.as_json(), indent=2) + "\n"))
    elif args.format == "html":
        _emit(args.output, lambda out: out.write(html.render(trend=trend) + "\n"))
    else:
        _emit(args.output, lambda out: terminal.render_trend(trend, out))
    return EXIT_OK


def _checks(args: argparse.Namespace) -> int:
    catalog = _load(args.checks_dir)
    checks = list(catalog.checks.values())
    print(local.checks_json(checks) if args.format == "json" else local.checks_table(checks))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        commands = {"audit": _audit, "graph": _graph, "checks": _checks, "report": _trend_report}
        return commands[args.command](args)
    except BadRequestError as exc:
        flag = exc.field if exc.field.startswith("-") else "--" + exc.field.replace("_", "-")
        print(f"relaudit: error: {flag}: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RelauditError as exc:
        print(f"relaudit: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("relaudit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
