"""`python -m tests.bench.sinks`: the same audit to JSON, then with both sinks, on the AWS-like server.

For each size: start ``tests.bench.server`` (N resources over three regions), then run in a child
process ``relaudit audit --format json`` without sinks, with ``--sink securityhub --sink dynamodb
--create-table`` on a new table (a first run: every finding new), and once more on that table (a
steady-state run: nothing changed). Each child's peak RSS (VmHWM) and wall time are measured as in
``tests.bench.run``; inside the child, timers split the run into inventory (until the last scope
is evaluated), evaluation (time in ``Evaluation.add``), and delivery (time in ``publish_scope``,
overlapped with inventory on its own threads, and the tail after the last scope). The server
counts calls per service; the summary's sink reports give deliveries, calls and write units.

Child mode (``--child OUT -- ARGS``) is what the parent runs: the CLI with those timers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.bench.run import REGIONS, Server, aws_env, run_child


def _child(out: Path, cli_args: list[str]) -> int:
    """Run the CLI with timers around evaluation, scope closing and publishing; write them to ``out``."""
    from relaudit import cli
    from relaudit import run as engine
    from relaudit.sinks import delivery

    lock = threading.Lock()
    timers: dict[str, Any] = {"evaluate_s": 0.0, "publish_s": 0.0, "last_scope_at": None, "scopes": 0}
    started = time.monotonic()
    add, close, publish = engine.Evaluation.add, engine.Evaluation.close_scope, delivery.Publisher.publish_scope

    def timed_add(self: Any, *args: Any, **kwargs: Any) -> None:
        clock = time.perf_counter()
        add(self, *args, **kwargs)
        timers["evaluate_s"] += time.perf_counter() - clock

    def timed_close(self: Any, *args: Any, **kwargs: Any) -> Any:
        timers["last_scope_at"] = time.monotonic() - started
        timers["scopes"] += 1
        return close(self, *args, **kwargs)

    def timed_publish(self: Any, *args: Any, **kwargs: Any) -> None:
        clock = time.perf_counter()
        publish(self, *args, **kwargs)
        with lock:
            timers["publish_s"] += time.perf_counter() - clock

    engine.Evaluation.add = timed_add  # type: ignore[method-assign]
    engine.Evaluation.close_scope = timed_close  # type: ignore[method-assign]
    delivery.Publisher.publish_scope = timed_publish  # type: ignore[method-assign]
    code = cli.main(cli_args)
    timers["total_s"] = time.monotonic() - started
    out.write_text(json.dumps(timers))
    return code


def _counts(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if key not in ("notes", "errors") and value}


def _measure(server: Server, label: str, args: list[str], home: str, timeout: float) -> dict[str, Any]:
    work = Path(home)
    timers, result = work / f"{label}-timers.json", work / f"{label}-result.json"
    command = [sys.executable, "-m", "tests.bench.sinks", "--child", str(timers), "--"]
    command += ["audit", "--format", "json", "--output", str(result), "--regions", ",".join(REGIONS), *args]
    server.reset()
    child = run_child(command, aws_env(server.endpoint, home), timeout)
    stats = server.stats()
    summary = json.loads(result.read_text())["summary"] if result.exists() else {}
    per_service: dict[str, int] = {}
    for key, count in stats.get("calls", {}).items():
        service = key.split("/")[1]
        per_service[service] = per_service.get(service, 0) + count
    figures = {
        "run": label,
        "exit_code": child.code,
        "wall_s": round(child.wall, 1),
        "peak_rss_mb": round(child.rss_mb, 1),
        "timers": json.loads(timers.read_text()) if timers.exists() else {},
        "findings": summary.get("findings"),
        "undelivered": summary.get("undelivered_findings"),
        "sinks": [_counts(report) for report in summary.get("sinks", [])],
        "calls": {s: per_service.get(s, 0) for s in ("securityhub", "dynamodb")},
        "all_calls": sum(per_service.values()),
    }
    print(json.dumps(figures), flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Measure each size; print one JSON line per run (and write them all with --json)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child(Path(argv[1]), argv[3:])
    parser = argparse.ArgumentParser(prog="python -m tests.bench.sinks", description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--latency", default="0.02,0.05")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-steady", action="store_true", help="skip the second (nothing changed) run with sinks")
    options = parser.parse_args(argv)
    figures: list[dict[str, Any]] = []
    for size in (int(s) for s in options.sizes.split(",")):
        server = Server(size, REGIONS, options.latency, options.timeout * 4)
        try:
            with tempfile.TemporaryDirectory() as home:
                sinks = ["--sink", "securityhub", "--sink", "dynamodb", "--table", "bench-findings"]
                runs = [("json", []), ("sinks-first", [*sinks, "--create-table"]), ("sinks-again", sinks)]
                for label, args in runs[: 2 if options.no_steady else 3]:
                    figures.append({"size": size, **_measure(server, label, args, home, options.timeout)})
        finally:
            server.stop()
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
