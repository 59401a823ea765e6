"""`python -m tests.bench.run` (`make bench`): audit seeded, AWS-like moto accounts and print the figures.

For each size N: start ``tests.bench.server`` (N resources over the regions, 20-50 ms per call,
documented throttling), then for each check selection run ``relaudit audit`` in a child process
and report wall time, calls per service, throttled (retried) calls, peak RSS, the model's lower
bound and the ratio to it, and the calls against the minimal count for the selection. With
``--prowler``, run Prowler's equivalent checks on the same server and compare.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from tests.bench.model import MODELED_OPERATIONS, Bound, CallKey, lower_bound, minimal_calls

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
PROWLER_EQUIVALENTS = {
    "rds-db-instance-multi-az": "rds_instance_multi_az",
    "elbv2-load-balancer-multi-az": "elbv2_is_in_multiple_az",
    "autoscaling-group-multi-az": "autoscaling_group_multiple_az",
    "lambda-function-vpc-multi-az": "awslambda_function_vpc_multi_az",
    "lambda-function-async-failure-captured": "awslambda_function_no_dead_letter_queue",
}
SINGLES = (
    "lambda-function-reserved-concurrency-set",
    "lambda-function-async-failure-captured",
    "lambda-function-vpc-multi-az",
    "lambda-function-timeout-not-default",
    "sqs-queue-redrive-policy-configured",
    "rds-db-instance-multi-az",
    "elbv2-load-balancer-multi-az",
    "autoscaling-group-multi-az",
    "apigateway-stage-throttling-configured",
    "apigatewayv2-stage-throttling-configured",
)
HEAVY_MODULES = ("moto", "flask", "werkzeug", "pandas", "aws_lambda_powertools", "botocore.stub")


@dataclass
class Child:
    """A finished child process: exit code, wall seconds, peak RSS (MB), CPU seconds, start time."""

    code: int
    wall: float
    rss_mb: float
    cpu: float
    started_at: float


@dataclass
class Result:
    """One measured run."""

    size: int
    selection: str
    tool: str
    child: Child
    stats: dict[str, Any]
    calls: dict[CallKey, int]
    bound: Bound
    minimal: int | None
    modeled_calls: int | None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def first_call(self) -> float | None:
        first = self.stats.get("first_request_at")
        return None if first is None else first - self.child.started_at

    def as_json(self) -> dict[str, Any]:
        """The run as JSON."""
        per_service: Counter[str] = Counter()
        for (_, service, _), count in self.calls.items():
            per_service[service] += count
        return {
            "size": self.size,
            "selection": self.selection,
            "tool": self.tool,
            "exit_code": self.child.code,
            "wall_s": round(self.child.wall, 2),
            "peak_rss_mb": round(self.child.rss_mb, 1),
            "cpu_s": round(self.child.cpu, 2),
            "first_call_s": None if self.first_call is None else round(self.first_call, 3),
            "calls": self.bound.calls,
            "calls_per_service": dict(sorted(per_service.items())),
            "calls_per_operation": _by_operation({"/".join(key): count for key, count in self.calls.items()}),
            "throttled": sum(self.stats.get("throttled", {}).values()),
            "statuses": self.stats.get("statuses", {}),
            "errors": _by_operation(self.stats.get("errors", {})),
            "slowest_server_calls": self.stats.get("slowest", {}),
            "peak_in_flight": self.stats.get("peak_in_flight"),
            "mean_latency_s": round(self.bound.latency, 4),
            "server_s": self.stats.get("server_seconds"),
            "bound_s": round(self.bound.seconds, 2),
            "bound_terms": {
                "t_conc": round(self.bound.t_conc, 2),
                "t_rate": round(self.bound.t_rate, 2),
                "t_path": round(self.bound.t_path, 2),
                "binding": self.bound.binding,
                "concurrency": self.bound.concurrency,
            },
            "top_buckets": [{**b, "s": round(b["s"], 2)} for b in self.bound.buckets],
            "ratio": round(self.child.wall / self.bound.seconds, 2) if self.bound.seconds else None,
            "full_bound_s": round(self.bound.full_seconds, 2),
            "full_ratio": round(self.child.wall / self.bound.full_seconds, 2),
            "minimal_calls": self.minimal,
            "modeled_calls": self.modeled_calls,
            "calls_ratio": round(self.modeled_calls / self.minimal, 2) if self.minimal else None,
            "summary": self.summary,
        }


class Server:
    """``tests.bench.server`` in a child process; it stops when we close its stdin."""

    def __init__(self, size: int, regions: tuple[str, ...], latency: str, ttl: float) -> None:
        command = [
            sys.executable,
            "-m",
            "tests.bench.server",
            "--resources",
            str(size),
            "--regions",
            ",".join(regions),
            "--latency",
            latency,
            "--ttl",
            str(ttl),
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        line = self._first_line(timeout=ttl)
        info = json.loads(line)
        self.endpoint: str = info["endpoint"]
        self.manifest: dict[str, Any] = info["manifest"]
        self.seed_seconds: float = info["seed_seconds"]

    def _first_line(self, timeout: float) -> str:
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if not box or not box[0]:
            self.stop()
            raise RuntimeError("the bench server did not start")
        return box[0]

    def _request(self, path: str, method: str = "GET") -> dict[str, Any]:
        request = urllib.request.Request(self.endpoint + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=30) as response:
            payload: dict[str, Any] = json.loads(response.read())
            return payload

    def reset(self) -> None:
        """Zero the counters and refill the buckets."""
        self._request("/_bench/reset", "POST")

    def stats(self) -> dict[str, Any]:
        """The counters since the last reset."""
        return self._request("/_bench/stats")

    def stop(self) -> None:
        """Close stdin (the server shuts down), then make sure the process is gone."""
        with contextlib.suppress(OSError):
            if self.process.stdin:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _high_water_kb(pid: int) -> int | None:
    """The process's own peak RSS (VmHWM of its address space), None once it has exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def run_child(command: list[str], env: dict[str, str], timeout: float, cwd: Path = ROOT) -> Child:
    """Run ``command``; measure wall time, CPU (wait4) and peak RSS of that child alone.

    Peak RSS is the child's VmHWM, polled every 20 ms: wait4's ru_maxrss also counts the parent's
    pages when the child is spawned with vfork (the high-water mark of the address space it left at
    exec), which made a small audit look as big as this benchmark process.
    """
    started_at = time.time()
    clock = time.monotonic()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    timer = threading.Timer(timeout, lambda: os.killpg(process.pid, signal.SIGKILL))
    timer.start()
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.02):
            value = _high_water_kb(process.pid)
            if value is not None:
                peak[0] = max(peak[0], value)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stderr = process.stderr.read() if process.stderr else b""
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    watcher.join()
    timer.cancel()
    wall = time.monotonic() - clock
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1, 3):
        sys.stderr.write(stderr.decode(errors="replace")[-2000:])
    return Child(process.returncode, wall, peak[0] / 1024, usage.ru_utime + usage.ru_stime, started_at)


def aws_env(endpoint: str, home: str) -> dict[str, str]:
    """A clean environment pointing every AWS SDK at the bench server."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _by_operation(counts: dict[str, int]) -> dict[str, int]:
    """Counts keyed region/service/operation[/status], summed over regions."""
    merged: Counter[str] = Counter()
    for key, count in counts.items():
        merged[key.split("/", 1)[1]] += count
    return dict(sorted(merged.items()))


def _calls(stats: dict[str, Any]) -> dict[CallKey, int]:
    calls: dict[CallKey, int] = {}
    for key, count in stats.get("calls", {}).items():
        region, service, operation = key.split("/")
        if service != "unsigned":
            calls[(region, service, operation)] = count
    return calls


@functools.cache
def _catalog() -> Any:
    from relaudit.catalog.loader import load_catalog
    from relaudit.inventory import COLLECTORS

    return load_catalog(known_types=COLLECTORS)


def _fields(selection: list[str]) -> dict[str, set[str]]:
    catalog = _catalog()
    checks = [catalog.checks[c] for c in selection] if selection else list(catalog.checks.values())
    fields: dict[str, set[str]] = defaultdict(set)
    for check in checks:
        fields[check.definition.resource_type] |= set(check.fields())
    return fields


def _minimal(selection: list[str], manifest: dict[str, Any], calls: dict[CallKey, int]) -> tuple[int, int]:
    """(minimal calls, measured calls).

    For the seeded types the model says what is needed. Operations the model does not know (the
    list calls of the types the seed leaves empty, Service Quotas' pages...) are charged as
    measured: their floor, not judged. So an operation the model knows counts against the target
    however many collectors make it (DescribeSubnets by the Lambda and VPC collectors), while a
    new operation made for a seeded type would hide in the floor: extend the model with it.
    """
    fields = _fields(selection)
    minimal = minimal_calls(fields, manifest)
    minimal[("us-east-1", "sts", "GetCallerIdentity")] = 1
    measured = sum(calls.values())
    floor = sum(
        count for (_, service, operation), count in calls.items() if (service, operation) not in MODELED_OPERATIONS
    )
    return sum(minimal.values()) + floor, measured


def warm_up(server: Server, region: str = "us-west-2") -> float:
    """Audit an unseeded region once, unmeasured: moto imports each service's backend and builds its
    Flask app on the first request to it (about a second each on this machine), which AWS does not."""
    with tempfile.TemporaryDirectory() as home:
        binary = Path(sys.executable).with_name("relaudit")
        command = [str(binary)] if binary.exists() else [sys.executable, "-m", "relaudit.cli"]
        command += ["audit", "--regions", region, "--format", "json", "--output", str(Path(home) / "r.json")]
        child = run_child(command, aws_env(server.endpoint, home), timeout=600)
    return child.wall


def audit(
    server: Server,
    size: int,
    name: str,
    selection: list[str],
    workers: int,
    regions: tuple[str, ...],
    source: Path | None = None,
) -> Result:
    """Run ``relaudit audit`` once against ``server`` and measure it (from ``source``/src if given)."""
    with tempfile.TemporaryDirectory() as home:
        report = Path(home) / "report.json"
        binary = Path(sys.executable).with_name("relaudit")
        command = [str(binary)] if binary.exists() and source is None else [sys.executable, "-m", "relaudit.cli"]
        command += ["audit", "--regions", ",".join(regions), "--format", "json", "--output", str(report)]
        command += ["--max-workers", str(workers)] + (["--checks", ",".join(selection)] if selection else [])
        env = aws_env(server.endpoint, home)
        if source is not None:  # another tree (a proposed change), with its own checks/
            env |= {"PYTHONPATH": str(source / "src"), "RELAUDIT_CHECKS_DIR": str(source / "checks")}
        server.reset()
        child = run_child(command, env, timeout=1800)
        stats = server.stats()
        summary = json.loads(report.read_text())["summary"] if report.exists() else {}
    calls = _calls(stats)
    total = sum(calls.values()) or 1
    bound = lower_bound(calls, stats["latency_seconds"] / total, 2 * workers)
    minimal, measured = _minimal(selection, server.manifest, calls)
    kept = {key: summary.get(key) for key in ("result", "resources", "findings", "coverage_gaps", "duration_seconds")}
    return Result(size, name, "relaudit", child, stats, calls, bound, minimal, measured, kept)


def prowler(server: Server, size: int, regions: tuple[str, ...], binary: Path) -> Result:
    """Run Prowler's equivalent checks once against ``server`` and measure it."""
    with tempfile.TemporaryDirectory() as home:
        command = [str(binary), "aws", "--checks", *PROWLER_EQUIVALENTS.values(), "-f", *regions]
        command += ["--no-banner", "-M", "json-ocsf", "-o", str(Path(home) / "out")]
        server.reset()
        child = run_child(command, aws_env(server.endpoint, home), timeout=1800, cwd=Path(home))
        stats = server.stats()
    calls = _calls(stats)
    total = sum(calls.values()) or 1
    bound = lower_bound(calls, stats["latency_seconds"] / total, 10)  # Prowler: 10 threads per service
    return Result(size, "prowler-equivalents", "prowler", child, stats, calls, bound, None, None)


def startup(endpoint_env: dict[str, str]) -> dict[str, Any]:
    """Import cost of the CLI path and whether heavy modules ride along."""
    code = (
        "import time, sys; t = time.perf_counter(); import relaudit.cli; "
        "t1 = time.perf_counter() - t; import json; "
        f"print(json.dumps({{'import_s': t1, 'heavy': [m for m in {HEAVY_MODULES!r} if m in sys.modules]}}))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=endpoint_env, capture_output=True, text=True, check=True
    )
    info: dict[str, Any] = json.loads(output.stdout)
    return info


def machine() -> dict[str, Any]:
    """What ran the benchmark."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError):
        memory = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    return {  # versions from metadata: importing moto here would swell this process for nothing
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "boto3": metadata.version("boto3"),
        "moto": metadata.version("moto"),
        "load_avg_at_start": os.getloadavg(),
    }


def _row(result: Result) -> str:
    data = result.as_json()
    terms = data["bound_terms"]
    per_service = ", ".join(f"{s} {c}" for s, c in data["calls_per_service"].items())
    first = f"{data['first_call_s']:.2f}s" if data["first_call_s"] is not None else "-"
    calls_ratio = f" minimal {data['minimal_calls']} (x{data['calls_ratio']})" if data["minimal_calls"] else ""
    return (
        f"  {data['tool']:8} {data['selection'][:42]:42} wall {data['wall_s']:7.2f}s  rss {data['peak_rss_mb']:6.1f}MB"
        f"  cpu {data['cpu_s']:6.2f}s  first call {first}\n"
        f"           calls {data['calls']}{calls_ratio}  throttled {data['throttled']}  statuses {data['statuses']}\n"
        f"           bound {data['bound_s']:.2f}s ({terms['binding']}; t_conc {terms['t_conc']}"
        f" t_rate {terms['t_rate']} t_path {terms['t_path']}, C={terms['concurrency']},"
        f" mean latency {data['mean_latency_s'] * 1000:.1f}ms)"
        f"  wall/bound x{data['ratio']}\n"
        f"           with CPU (3 ms a call) and the 0.5 s start-up: {data['full_bound_s']:.2f}s,"
        f" wall/bound x{data['full_ratio']}\n"
        f"           top bucket {data['top_buckets'][:1]}\n"
        f"           per service: {per_service}\n"
        f"           result {data['summary'].get('result')} resources {data['summary'].get('resources')}"
        f" gaps {data['summary'].get('coverage_gaps')}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and optionally save) the figures."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__)
    parser.add_argument("--sizes", default="100,1000,10000", help="resources per run (comma-separated)")
    parser.add_argument("--regions", default=",".join(REGIONS))
    parser.add_argument("--latency", default="0.02,0.05", help="low,high seconds per round trip")
    parser.add_argument("--max-workers", type=int, default=16)
    parser.add_argument(
        "--selections", default="all,prowler-equivalents", help="all, prowler-equivalents, no-graph, singles"
    )
    parser.add_argument("--singles-at", type=int, default=1000, help="size at which each single check is run")
    parser.add_argument("--prowler", default=str(ROOT / ".venv-prowler/bin/prowler"), help="'' to skip")
    parser.add_argument("--prowler-at", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--source", type=Path, help="audit with the relaudit in SOURCE/src (e.g. a patched copy)")
    args = parser.parse_args(argv)

    regions = tuple(r for r in args.regions.split(",") if r)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    named = {
        "all": [],
        "prowler-equivalents": list(PROWLER_EQUIVALENTS),
        # every check but the workload graph's: what the graph adds is "all" minus this
        "no-graph": sorted(c for c, check in _catalog().checks.items() if not check.definition.graph),
    }
    selections = [s for s in args.selections.split(",") if s]
    prowler_bin = Path(args.prowler) if args.prowler else None
    if prowler_bin is not None and not prowler_bin.exists():
        print(f"prowler: not run ({prowler_bin} is missing; see docs/benchmarks.md)")
        prowler_bin = None
    info: dict[str, Any] = {"machine": machine(), "args": vars(args) | {"json": str(args.json)}, "runs": []}
    print(f"machine: {info['machine']}")
    with tempfile.TemporaryDirectory() as home:
        info["startup"] = startup(aws_env("http://127.0.0.1:9", home))
    print(f"startup: import relaudit.cli {info['startup']['import_s']:.3f}s; heavy modules: {info['startup']['heavy']}")
    for size in sizes:
        server = Server(size, regions, args.latency, ttl=3600)
        try:
            print(f"\nN={size} over {len(regions)} regions: seeded in {server.seed_seconds:.1f}s at {server.endpoint}")
            print(f"  warm-up audit of an empty region (moto loads each service on first use): {warm_up(server):.1f}s")
            runs: list[tuple[str, list[str]]] = [(s, named[s]) for s in selections if s in named]
            if "singles" in selections and size == args.singles_at:
                runs += [(check, [check]) for check in SINGLES]
            for name, selection in runs:
                result = audit(server, size, name, selection, args.max_workers, regions, args.source)
                info["runs"].append(result.as_json())
                print(_row(result))
            if prowler_bin is not None and size == args.prowler_at:
                result = prowler(server, size, regions, prowler_bin)
                info["runs"].append(result.as_json())
                print(_row(result))
        finally:
            server.stop()
    if args.json:
        args.json.write_text(json.dumps(info, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
