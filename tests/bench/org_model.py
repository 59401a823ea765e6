"""Organization scale, modelled: 200 accounts x 17 regions, the Step Functions fan-out vs one process.

``python -m tests.bench.org_model`` prints the figures docs/benchmarks.md records. Nothing is
measured here: it is the model of /work/shared/reference/aws-limits-and-audit-physics.md §6
(per item: T >= max(T_rate, T_conc, T_path, T_cpu) + T_write + T_cold; the organization:
T_org >= T_list + max(slowest item scheduled MaxConcurrency at a time, fleet-wide concurrency,
fleet-wide CPU, central sinks)), applied to a synthetic fleet with the §7.1 resource mix, each
account with its own size, skew, latency and, being AWS's buckets per account and region, its
own rate limits (taken from relaudit.ratelimit, the rates the auditor itself waits on).

Two fleets: ``uniform`` is §7.2's 200 copies of the §7.1 account (2,000 resources evenly over 17
regions); ``mixed`` draws sizes from a log-normal (same mean), puts 80% of a third of the
accounts in one region, and gives each account a latency factor (0.8-1.6: distance, server time).
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from dataclasses import dataclass, field

from relaudit.ratelimit import buckets_for

REGIONS = 17
# Round trip + server time per call, by how far the target region is from the auditor's (ms):
# §4's cloudping figures; the first region is the auditor's own.
REGION_LATENCY = (0.05, 0.08, 0.08, 0.09, 0.10, 0.12, 0.15, 0.15, 0.15, 0.17, 0.18, 0.20, 0.21, 0.22, 0.23, 0.23, 0.25)
CPU_PER_CALL = 0.003  # s of Python CPU per call (§4 [est]: 1-5 ms)
FINDINGS_PER_RESOURCE = 2.0  # §7.1
WRU_PER_FINDING = 2.0  # the current item (1-2 KB) per finding; history only on change (steady state)
TABLE_WRU_PER_SECOND = 4000.0  # a new on-demand table (§2); 40,000 once warmed
WARM_TABLE_WRU_PER_SECOND = 40000.0  # the default table maximum, after traffic has ramped it up
PUT_LATENCY = 0.01  # s per PutItem to the table in the auditor's own region [est]
SECURITY_HUB_PACE = 5.0  # BatchImportFindings calls/s per (account, region): DeliveryOptions.rate_per_second
COLD_START = 2.0  # s, once per Lambda environment: init, imports, the catalog (§6 T_cold 1-3 s)
ITEM_OVERHEAD = 0.3  # s per item: child execution start, invoke, AssumeRole [est]
ITEM_THREADS = 16  # the org function's pool (org_handlers.WORKERS)
ITEM_VCPU = 1024 / 1769  # MemorySize 1024 MB: Lambda gives 1 vCPU at 1,769 MB
LAMBDA_LIMIT = 900.0

# §7.1's resource mix for 2,000 resources, with each kind's calls: (service, list operation, page
# size, [(service, per-resource operation, calls per resource)]).
MIX: dict[str, tuple[int, str, str, int, list[tuple[str, str, float]]]] = {
    "instances": (300, "ec2", "DescribeInstances", 1000, []),
    "volumes": (400, "ec2", "DescribeVolumes", 500, []),
    "databases": (40, "rds", "DescribeDBInstances", 100, []),
    "load_balancers": (30, "elbv2", "DescribeLoadBalancers", 400, [("elbv2", "DescribeLoadBalancerAttributes", 1)]),
    "target_groups": (60, "elbv2", "DescribeTargetGroups", 400, [("elbv2", "DescribeTargetHealth", 1)]),
    "auto_scaling_groups": (30, "autoscaling", "DescribeAutoScalingGroups", 100, []),
    "functions": (
        400,
        "lambda",
        "ListFunctions",
        50,
        [("lambda", "GetFunction", 1), ("lambda", "ListFunctionEventInvokeConfigs", 1)],
    ),
    "queues": (150, "sqs", "ListQueues", 1000, [("sqs", "GetQueueAttributes", 1)]),
    "topics": (80, "sns", "ListTopics", 100, [("sns", "GetTopicAttributes", 1)]),
    "rules": (150, "events", "ListRules", 100, [("events", "ListTargetsByRule", 1)]),
    "rest_apis": (20, "apigateway", "GetRestApis", 500, [("apigateway", "GetStages", 1)]),
    "http_apis": (10, "apigatewayv2", "GetApis", 500, [("apigatewayv2", "GetStages", 1)]),
    "tables": (
        100,
        "dynamodb",
        "ListTables",
        100,
        [("dynamodb", "DescribeTable", 1), ("dynamodb", "DescribeContinuousBackups", 1)],
    ),
    "caches": (20, "elasticache", "DescribeReplicationGroups", 100, []),
    "services": (80, "ecs", "ListServices", 100, [("ecs", "DescribeServices", 0.1)]),
    "alarms": (130, "cloudwatch", "DescribeAlarms", 100, []),
}
MIX_TOTAL = sum(spec[0] for spec in MIX.values())
EXTRA_LISTS = (("ecs", "ListClusters"), ("elbv2", "DescribeListeners"), ("sns", "ListSubscriptions"))


@dataclass(frozen=True)
class Account:
    """One member account of the synthetic fleet."""

    account_id: str
    resources: int
    shares: tuple[float, ...]  # fraction of its resources in each region
    latency_factor: float


@dataclass
class Item:
    """One (account, region) item: its calls and its modelled time."""

    account_id: str
    region: int
    calls: int
    findings: int
    latency: float
    t_rate: float
    t_conc: float
    t_path: float
    t_cpu: float
    t_write: float
    bucket: str = ""

    @property
    def seconds(self) -> float:
        """The item's time in a warm Lambda (§6: the largest read bound, then the writes, plus the overhead)."""
        return max(self.t_rate, self.t_conc, self.t_path, self.t_cpu) + self.t_write + ITEM_OVERHEAD

    @property
    def read_bound(self) -> str:
        """Which read term binds."""
        terms = {"rate": self.t_rate, "latency": self.t_conc, "pages": self.t_path, "cpu": self.t_cpu}
        return max(terms, key=lambda name: terms[name])


def item_model(account: Account, region: int) -> Item:
    """Calls and time bounds for auditing ``account`` in region number ``region``."""
    share = account.shares[region]
    latency = REGION_LATENCY[region] * account.latency_factor
    per_bucket: Counter[str] = Counter()
    shapes: dict[str, tuple[float, float]] = {}
    calls, longest_list, resources = 0, 0, 0

    def charge(service: str, operation: str, count: int) -> None:
        for bucket in buckets_for(service, operation):
            per_bucket[bucket.name] += count
            shapes[bucket.name] = (bucket.rate.per_second, bucket.rate.burst)

    for base, service, operation, page, details in MIX.values():
        n = round(account.resources * base / MIX_TOTAL * share)
        resources += n
        pages = max(1, math.ceil(n / page))
        longest_list = max(longest_list, pages)
        calls += pages
        charge(service, operation, pages)
        for detail_service, detail_operation, per in details:
            count = math.ceil(n * per)
            calls += count
            charge(detail_service, detail_operation, count)
    for service, operation in EXTRA_LISTS:
        calls += 1
        charge(service, operation, 1)
    calls += 2  # AssumeRole and GetCallerIdentity: each item plans its account
    rate_by_bucket = {name: max(0.0, count - shapes[name][1]) / shapes[name][0] for name, count in per_bucket.items()}
    bucket = max(rate_by_bucket, key=lambda name: rate_by_bucket[name]) if rate_by_bucket else ""
    findings = round(resources * FINDINGS_PER_RESOURCE)
    return Item(
        account_id=account.account_id,
        region=region,
        calls=calls,
        findings=findings,
        latency=latency,
        t_rate=rate_by_bucket.get(bucket, 0.0),
        t_conc=calls * latency / ITEM_THREADS,
        t_path=(longest_list + 1) * latency,
        t_cpu=calls * CPU_PER_CALL / ITEM_VCPU,
        t_write=math.ceil(findings / 100) / SECURITY_HUB_PACE + findings * PUT_LATENCY / ITEM_THREADS,
        bucket=bucket,
    )


def fleet(kind: str, accounts: int = 200, resources: int = 2000, seed: int = 7) -> list[Account]:
    """The synthetic organization (``uniform`` or ``mixed``; see the module docstring)."""
    if kind == "uniform":
        even = tuple([1 / REGIONS] * REGIONS)
        return [Account(f"{100000000000 + n}", resources, even, 1.0) for n in range(accounts)]
    rng = random.Random(seed)
    sigma = 1.0
    out = []
    for n in range(accounts):
        size = max(50, round(resources * rng.lognormvariate(-(sigma**2) / 2, sigma)))
        if n % 3 == 0:  # a third put 80% of their resources in one region
            home = rng.randrange(REGIONS)
            shares = tuple(0.8 if r == home else 0.2 / (REGIONS - 1) for r in range(REGIONS))
        else:
            weights = [rng.random() + 0.2 for _ in range(REGIONS)]
            shares = tuple(w / sum(weights) for w in weights)
        out.append(Account(f"{100000000000 + n}", size, shares, rng.uniform(0.8, 1.6)))
    return out


@dataclass
class Outcome:
    """A modelled wall time and what sets it."""

    seconds: float
    binding: str
    terms: dict[str, float] = field(default_factory=dict)


def fan_out(
    items: list[Item],
    accounts: int,
    max_concurrency: int,
    table_wru: float = TABLE_WRU_PER_SECOND,
    longest_first: bool = False,
) -> Outcome:
    """The Step Functions run: list step, Distributed Map (``max_concurrency`` items at once), last step.

    Items start in list order as slots free up (a Map run hands items out in order; the list step
    orders them by account, then region); ``longest_first`` orders them by their time instead, as
    a list step could from the previous run's item records. The central table's write capacity
    bounds the whole Map from below.
    """
    t_list = math.ceil(accounts / 20) * REGION_LATENCY[0] + math.ceil(accounts / ITEM_THREADS) * 3 * 0.1 + COLD_START
    slots = [COLD_START] * min(max_concurrency, len(items))  # each environment starts cold once
    heapq.heapify(slots)
    for item in sorted(items, key=lambda i: -i.seconds) if longest_first else items:
        heapq.heappush(slots, heapq.heappop(slots) + item.seconds)
    makespan = max(slots)
    table = sum(item.findings for item in items) * WRU_PER_FINDING / table_wru
    t_last = COLD_START + math.ceil(len(items) * 2 / 1000) * REGION_LATENCY[0]  # Query the item records (1 MB pages)
    terms = {"items, MaxConcurrency at a time": makespan, "findings table WRU": table}
    binding = max(terms, key=lambda name: terms[name])
    return Outcome(t_list + terms[binding] + t_last, binding, {"list": t_list, **terms, "record": t_last})


def single_process(items: list[Item], threads: int) -> Outcome:
    """`relaudit audit --org` in one process: every unit on one pool, one interpreter's CPU, then the sinks."""
    calls = sum(item.calls for item in items)
    read_terms = {
        "latency x calls / threads": sum(item.calls * item.latency for item in items) / threads,
        "one vCPU": calls * CPU_PER_CALL,
        "slowest rate bucket": max(item.t_rate for item in items),
        "longest pages": max(item.t_path for item in items),
    }
    findings = sum(item.findings for item in items)
    sink_terms = {
        "PutItem per finding / threads": findings * PUT_LATENCY / threads,
        "findings table WRU": findings * WRU_PER_FINDING / TABLE_WRU_PER_SECOND,
        "Security Hub pacing / threads": sum(math.ceil(i.findings / 100) for i in items) / SECURITY_HUB_PACE / threads,
    }
    read = max(read_terms, key=lambda name: read_terms[name])
    sink = max(sink_terms, key=lambda name: sink_terms[name])
    seconds = read_terms[read] + sink_terms[sink] + findings * CPU_PER_CALL / 10  # evaluation and ASFF
    return Outcome(seconds, f"{read}, then {sink}", {**read_terms, **sink_terms})


def _minutes(seconds: float) -> str:
    return f"{seconds:7.0f} s ({seconds / 60:5.1f} min)"


def report(kind: str) -> list[str]:
    """The figures for one fleet, as printed lines."""
    accounts = fleet(kind)
    items = [item_model(account, region) for account in accounts for region in range(REGIONS)]
    calls = sum(i.calls for i in items)
    findings = sum(i.findings for i in items)
    slowest = max(items, key=lambda i: i.seconds)
    over = sum(1 for i in items if i.seconds > LAMBDA_LIMIT)
    lines = [
        f"fleet {kind}: {len(accounts)} accounts x {REGIONS} regions = {len(items)} items, "
        f"{sum(a.resources for a in accounts):,} resources, {calls:,} read calls, {findings:,} findings, "
        f"{sum(math.ceil(i.findings / 100) for i in items):,} BatchImportFindings calls",
        f"  slowest item {slowest.seconds:.1f} s (account {slowest.account_id}, region #{slowest.region}, "
        f"{slowest.calls} calls, bound by {slowest.read_bound}: {slowest.bucket or '-'}); "
        f"median item {sorted(i.seconds for i in items)[len(items) // 2]:.1f} s; items over 900 s: {over}",
    ]
    for concurrency in (40, 200, 800, len(items)):
        outcome = fan_out(items, len(accounts), concurrency)
        lines.append(
            f"  fan-out, MaxConcurrency {concurrency:>5}: {_minutes(outcome.seconds)}  bound: {outcome.binding}"
        )
    for concurrency in (40, 200):
        warm = fan_out(items, len(accounts), concurrency, WARM_TABLE_WRU_PER_SECOND)
        ordered = fan_out(items, len(accounts), concurrency, WARM_TABLE_WRU_PER_SECOND, longest_first=True)
        lines.append(
            f"  fan-out, MaxConcurrency {concurrency:>5}, warm table: {_minutes(warm.seconds)}; "
            f"longest items first: {_minutes(ordered.seconds)}  bound: {ordered.binding}"
        )
    for threads in (16, 64):
        outcome = single_process(items, threads)
        note = "  > 900 s: no single Lambda" if outcome.seconds > LAMBDA_LIMIT else ""
        lines.append(
            f"  single process, {threads:>3} threads: {_minutes(outcome.seconds)}  bound: {outcome.binding}{note}"
        )
    return lines


def main() -> None:
    """Print the model's figures for both fleets."""
    print("Organization fan-out vs one process (model; reference §6-7, rates from relaudit.ratelimit)")
    for kind in ("uniform", "mixed"):
        print("\n".join(report(kind)))


if __name__ == "__main__":
    main()
