"""Render an audit result or the catalog as plain text or JSON (the terminal view of findings is
:mod:`relaudit.report.terminal`, which ends with :func:`footer_text`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

    from relaudit.catalog.loader import CompiledCheck
    from relaudit.models.finding import AuditResult


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain fixed-width text table."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*headers).rstrip(), line.format(*("-" * w for w in widths)).rstrip()]
    out.extend(line.format(*row).rstrip() for row in rows)
    return "\n".join(out)


def result_json(result: AuditResult) -> str:
    """The JSON output contract: {"summary", "findings", "coverage_gaps"}.

    Serialized by pydantic-core straight to text: going through model_dump's dicts first held every
    finding twice more (about 85 MB extra at 10,000 findings, hundreds at 70,000).
    """
    return result.model_dump_json(indent=2)


def write_result_json(result: AuditResult, out: TextIO) -> None:
    """Write exactly ``result_json(result)`` to ``out``, one finding at a time.

    The whole text is about 1.3 KB per finding (90 MB at 70,000 findings); written piecewise, the
    CLI's peak memory does not grow with it.
    """
    fields = [name for name, info in type(result).model_fields.items() if not info.exclude]
    out.write("{")
    for index, name in enumerate(fields):
        out.write(f"{',' if index else ''}\n  {json.dumps(name)}: ")
        if name != "findings":
            text = result.model_dump_json(include={name}, indent=2)  # '{\n  "name": value\n}'
            out.write(text[len(json.dumps(name)) + 6 : -2])
            continue
        out.write("[")
        for position, finding in enumerate(result.findings):
            out.write(("," if position else "") + "\n    " + finding.model_dump_json(indent=2).replace("\n", "\n    "))
        out.write("\n  ]" if result.findings else "]")
    out.write("\n}")


def footer_text(result: AuditResult) -> str:
    """What follows the findings in the terminal view: coverage gaps, the summary, and the sinks."""
    gap_rows: list[tuple[str, ...]] = [
        (g.region, g.resource_type, g.error_code, g.message[:80]) for g in result.coverage_gaps
    ]
    gap_headers: tuple[str, ...] = ("REGION", "TYPE", "ERROR", "MESSAGE")
    if len(result.summary.accounts) > 1:  # several accounts (--org, --accounts): say whose
        gap_rows = [(g.account_id, *row) for row, g in zip(gap_rows, result.coverage_gaps, strict=True)]
        gap_headers = ("ACCOUNT", *gap_headers)
    parts = []
    if result.coverage_gaps:
        parts.append("Coverage gaps (not audited):\n" + table(gap_headers, gap_rows))
    s = result.summary
    counts = ", ".join(f"{count} {status}" for status, count in s.findings.items())
    failed = ", ".join(f"{n} {sev}" for sev, n in s.failed_by_severity.items()) or "none"
    parts.append(
        f"Result: {s.result} | {s.resources} resources, {s.checks} checks, "
        f"{len(s.regions)} regions{f', {len(s.accounts)} accounts' if len(s.accounts) > 1 else ''} "
        f"in {s.duration_seconds:.1f}s\n"
        f"Findings: {counts}\nFailed by severity: {failed}\nSuppressed: {s.suppressed}\n"
        f"Coverage gaps: {s.coverage_gaps}"
    )
    if s.sinks:
        parts.append(sinks_text(result))
    return "\n\n".join(parts)


def sinks_text(result: AuditResult) -> str:
    """One line per sink (what was delivered, archived, skipped, lost), then the notes."""
    lines = []
    for report in result.summary.sinks:
        counts = report.model_dump(exclude={"sink", "errors", "notes"})
        shown = ", ".join(f"{value} {name.replace('_', ' ')}" for name, value in counts.items() if value)
        errors = ", ".join(f"{n} {code}" for code, n in report.errors.items())
        lines.append(f"{report.sink}: {shown or 'nothing to do'}" + (f" (errors: {errors})" if errors else ""))
        lines.extend(f"  note: {note}" for note in report.notes)
    lines.append(f"Undelivered findings: {result.summary.undelivered_findings} | run {result.summary.run_id}")
    return "Sinks:\n" + "\n".join(lines)


def check_metadata(check: CompiledCheck) -> dict[str, Any]:
    """One check's public metadata, as `relaudit checks --format json` lists it."""
    d = check.definition
    return {
        "id": d.id,
        "title": d.title,
        "resource_type": d.resource_type,
        "severity": d.severity.value,
        "best_practice": d.best_practice,
        "references": d.references.model_dump(exclude_none=True),
        "remediation": d.remediation.model_dump(),
        "risk": d.risk,
        "parameters": d.parameters,
    }


def checks_json(checks: Sequence[CompiledCheck]) -> str:
    """Every check's metadata as a JSON array."""
    return json.dumps([check_metadata(c) for c in checks], indent=2, ensure_ascii=False)


def checks_table(checks: Sequence[CompiledCheck]) -> str:
    """Every check as a table row."""
    rows = [
        (c.definition.best_practice, c.definition.severity.value, c.id, c.definition.resource_type)
        for c in sorted(checks, key=lambda c: (c.definition.best_practice, c.id))
    ]
    return table(("BEST PRACTICE", "SEVERITY", "CHECK", "RESOURCE TYPE"), rows)
