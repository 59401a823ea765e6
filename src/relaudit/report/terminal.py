"""The terminal view of an audit: what failed (and what could not be judged) first, grouped by check.

Each group is one line (status, severity, check, count, title), the first line of the remediation,
then its resources. PASSED and NOT_APPLICABLE groups are counted in one line each unless asked for.
Suppressed findings (relaudit.policy) are listed apart, with who suppressed them, until when and
why, then the policy's notes (expired or unhonoured suppressions). The coverage gaps, the summary
and the sinks follow, as :mod:`relaudit.sinks.local` words them.
Colour comes from rich, which leaves it out when the output is not a terminal or NO_COLOR is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from relaudit.report.grouping import (
    FAILED,
    NOT_APPLICABLE,
    PASSED,
    UNKNOWN,
    CheckGroup,
    group_by_check,
)
from relaudit.report.trend import human_duration
from relaudit.sinks import local

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from typing import TextIO

    from relaudit.models.finding import AuditResult, Finding
    from relaudit.report.trend import Trend

STATUS_STYLE = {FAILED: "bold red", UNKNOWN: "bold yellow", PASSED: "green", NOT_APPLICABLE: "dim"}
SEVERITY_STYLE = {"CRITICAL": "bold red", "HIGH": "red", "MEDIUM": "yellow", "LOW": "cyan", "INFORMATIONAL": "dim"}
_FLAG = {PASSED: "--show-passed", NOT_APPLICABLE: "--show-not-applicable"}


def console_for(out: TextIO) -> Console:
    """A rich console on ``out``: colour only on a terminal, never with NO_COLOR (rich reads it);
    lines are never wrapped by rich, so a piped report keeps one resource per line."""
    return Console(file=out, highlight=False, soft_wrap=True, emoji=False)


def _group_lines(group: CheckGroup, several_accounts: bool) -> list[Text]:
    status_style = STATUS_STYLE.get(group.status, "bold")
    header = Text.assemble(
        (f"{group.status:<8}", status_style),
        " ",
        (f"{group.severity:<13}", SEVERITY_STYLE.get(group.severity, "")),
        " ",
        (group.check_id, "bold"),
        f" ({group.count})  ",
        group.title,
    )
    lines = [header]
    if group.status in (FAILED, UNKNOWN):
        lines.append(Text.assemble("    fix: ", group.remediation_headline, "  ", (group.remediation_url, "dim")))
    for finding in group.findings:
        parts = ["    ", f"{finding.region:<16}", " "]
        if several_accounts:
            parts += [finding.account_id, "  "]
        line = Text.assemble(*parts, (finding.resource_name, "bold"))
        if group.status == UNKNOWN:  # its reason names the input that could not be read
            line.append(f"  {finding.reason}", "yellow")
        lines.append(line)
    return lines


def _unsuppressed(findings: Iterable[Finding], suppressed: list[Finding]) -> Iterator[Finding]:
    """The findings not suppressed; the suppressed ones are appended to ``suppressed`` (one pass)."""
    for finding in findings:
        if finding.suppression is None:
            yield finding
        else:
            suppressed.append(finding)


def _hidden_line(status: str, groups: list[CheckGroup]) -> Text:
    count = sum(group.count for group in groups)
    return Text.assemble(
        (status, STATUS_STYLE.get(status, "")),
        f": {count} findings of {len(groups)} checks not listed ({_FLAG[status]} lists them)",
    )


def suppressed_table(findings: Sequence[Finding], several_accounts: bool = False) -> str:
    """Suppressed findings, apart from the others: what, by which source, until when, and why."""
    ordered = sorted(findings, key=lambda f: (-f.severity.rank, f.check_id, f.resource_arn))
    headers: tuple[str, ...] = ("STATUS", "SEVERITY", "CHECK", "REGION", "RESOURCE", "BY", "UNTIL", "REASON")
    rows: list[tuple[str, ...]] = []
    for f, rule in ((f, f.suppression) for f in ordered):
        if rule is None:
            continue
        until = rule.expires.isoformat() if rule.expires else "-"
        row = (f.status.value, f.severity.value, f.check_id, f.region, f.resource_name, rule.source, until, rule.reason)
        rows.append((*row, f.account_id) if several_accounts else row)
    if several_accounts:
        headers = (*headers, "ACCOUNT")
    return f"Suppressed ({len(rows)}):\n" + local.table(headers, rows)


def policy_notes_text(notes: Sequence[str]) -> str:
    """The policy's notes: suppressions that expired or were not honoured, tier tags naming no tier."""
    return "Policy notes:\n" + "\n".join(f"  {note}" for note in notes)


def _policy_lines(console: Console, result: AuditResult, suppressed: Sequence[Finding]) -> None:
    if suppressed:
        console.print(Text(suppressed_table(suppressed, several_accounts=len(result.summary.accounts) > 1)))
        console.print()
    if result.summary.policy_notes:
        console.print(Text(policy_notes_text(result.summary.policy_notes)))
        console.print()


def render(result: AuditResult, out: TextIO, *, show_passed: bool = False, show_not_applicable: bool = False) -> None:
    """Write the terminal view of ``result`` to ``out``.

    Args:
        result: The audit result.
        out: Where to write (a terminal gets colour).
        show_passed: List PASSED groups and their resources (else one line counts them).
        show_not_applicable: List NOT_APPLICABLE groups too.
    """
    console = console_for(out)
    suppressed: list[Finding] = []
    groups = group_by_check(_unsuppressed(result.findings, suppressed))
    several_accounts = len(result.summary.accounts) > 1
    shown = {PASSED: show_passed, NOT_APPLICABLE: show_not_applicable}
    hidden: dict[str, list[CheckGroup]] = {}
    listed = 0
    for group in groups:
        if not shown.get(group.status, True):
            hidden.setdefault(group.status, []).append(group)
            continue
        for line in _group_lines(group, several_accounts):
            console.print(line)
        console.print()
        listed += 1
    if not listed:
        but = " but the suppressed findings below," if suppressed else ""
        console.print(Text(f"Nothing failed{but} and nothing is unknown.", "green"))
        console.print()
    for status, held in hidden.items():
        console.print(_hidden_line(status, held))
    if hidden:
        console.print()
    _policy_lines(console, result, suppressed)
    console.print(Text(local.footer_text(result)))


def render_trend(trend: Trend, out: TextIO) -> None:
    """Write the trend as two plain tables: the runs (oldest first) and the mean time to resolve."""
    console = console_for(out)
    statuses = trend.statuses
    console.print(Text(f"Runs recorded in {trend.table} since {trend.since}: {len(trend.runs)}", "bold"))
    if trend.runs:
        headers = ("RUN", "STARTED", "RESULT", *statuses, "OPENED", "RESOLVED")
        rows = [
            (
                run.run_id,
                run.started_at,
                run.result or "",
                *(str(run.findings.get(status, 0)) for status in statuses),
                str(run.opened),
                str(run.resolved),
            )
            for run in trend.runs
        ]
        console.print(Text(local.table(headers, rows)))
    console.print()
    resolved = sum(c.resolved for c in trend.time_to_resolve)
    console.print(Text(f"Mean time to resolve, per check ({resolved} resolved findings)", "bold"))
    if trend.time_to_resolve:
        rows = [(c.check_id, str(c.resolved), human_duration(c.mean_seconds)) for c in trend.time_to_resolve]
        console.print(Text(local.table(("CHECK", "RESOLVED", "MEAN"), rows)))
    else:
        console.print("No failing finding was resolved in this period.")
