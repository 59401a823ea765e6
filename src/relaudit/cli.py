"""The `relaudit` command line: `relaudit audit` and `relaudit checks`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pydantic import ValidationError

from relaudit import __version__
from relaudit.aws import ClientFactory, client_config
from relaudit.catalog.loader import Catalog, load_catalog
from relaudit.errors import BadRequestError, RelauditError
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Severity
from relaudit.models.request import SECRET_FIELDS, AuditRequest
from relaudit.policy.apply import validate_against_catalog
from relaudit.policy.config import PolicyConfig, load_config
from relaudit.run import run
from relaudit.sinks import local

if TYPE_CHECKING:
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
    audit.add_argument("--format", choices=("table", "json"), default="table")
    audit.add_argument("--output", type=Path, help="write the report to this file instead of stdout")
    audit.add_argument("--fail-on", type=_severity, help="exit 1 if a FAILED finding is at or above this")
    audit.add_argument("--checks-dir", type=Path, action="append", default=[], help="extra check files")
    audit.add_argument("--config", type=Path, help="policy file: suppressions with a reason and expiry, tiers")
    audit.add_argument("--max-workers", type=int, default=16, help="concurrent API units (default 16)")
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

    checks = commands.add_parser("checks", help="list the checks")
    checks.add_argument("--format", choices=("table", "json"), default="table")
    checks.add_argument("--checks-dir", type=Path, action="append", default=[], help="extra check files")
    return parser


def _load(extra: list[Path]) -> Catalog:
    catalog = load_catalog(extra_dirs=extra, known_types=COLLECTORS)
    for problem in catalog.problems:
        print(f"relaudit: warning: skipped check: {problem}", file=sys.stderr)
    return catalog


def _progress(done: int, total: int, unit: str) -> None:
    sys.stderr.write(f"\r\x1b[K[{done}/{total}] {unit}")
    if done == total:
        sys.stderr.write("\r\x1b[K")
    sys.stderr.flush()


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
    progress = _progress if sys.stderr.isatty() else None
    result = run(request, catalog, factory, progress)
    if args.output:
        try:
            with args.output.open("w", encoding="utf-8") as out:
                _report(result, args, out)
        except OSError as exc:
            raise RelauditError(f"--output: cannot write '{args.output}': {exc.strerror or exc}") from exc
        print(f"relaudit: wrote {args.output}", file=sys.stderr)
    else:
        _report(result, args, sys.stdout)
    return exit_code(result, args.fail_on)


def _report(result: AuditResult, args: argparse.Namespace, out: TextIO) -> None:
    """JSON is streamed finding by finding: at 10,000 resources the whole text is tens of MB."""
    if args.format == "json":
        local.write_result_json(result, out)
    else:
        out.write(local.result_table(result, args.show_not_applicable))
    out.write("\n")


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
        return _audit(args) if args.command == "audit" else _checks(args)
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
