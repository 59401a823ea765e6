"""The terminal view of an audit: what failed (and what could not be judged) first, grouped by check.

Each group is one line (status, severity, check, count, title), the first line of the remediation,
then its resources. PASSED and NOT_APPLICABLE groups are counted in one line each unless asked for.
The coverage gaps, the summary and the sinks follow, as :mod:`relaudit.sinks.local` words them.
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
    suppression_note,
)
from relaudit.report.trend import human_duration
from relaudit.sinks import local

if TYPE_CHECKING:
    from typing import TextIO

    from relaudit.models.finding import AuditResult
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
        note = suppression_note(finding)
        if note:
            line.append(f"  [{note}]", "dim")
        lines.append(line)
    return lines


def _hidden_line(status: str, groups: list[CheckGroup]) -> Text:
    count = sum(group.count for group in groups)
    return Text.assemble(
        (status, STATUS_STYLE.get(status, "")),
        f": {count} findings of {len(groups)} checks not listed ({_FLAG[status]} lists them)",
    )


def render(result: AuditResult, out: TextIO, *, show_passed: bool = False, show_not_applicable: bool = False) -> None:
    """Write the terminal view of ``result`` to ``out``.

    Args:
        result: The audit result.
        out: Where to write (a terminal gets colour).
        show_passed: List PASSED groups and their resources (else one line counts them).
        show_not_applicable: List NOT_APPLICABLE groups too.
    """
    console = console_for(out)
    groups = group_by_check(result.findings)
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
        console.print(Text("Nothing failed and nothing is unknown.", "green"))
        console.print()
    for status, held in hidden.items():
        console.print(_hidden_line(status, held))
    if hidden:
        console.print()
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
