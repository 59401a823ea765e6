"""A seeded moto server behind the fault middleware, in its own process, steered over HTTP.

``python -m tests.support.fault_server --regions us-east-1,eu-west-1`` starts moto on 127.0.0.1,
seeds it with :func:`relaudit.demo.seed.seed` (through HTTP, like any other client), prints one JSON
line ``{"endpoint": ..., "planted": [...]}`` and serves until killed. ``POST /_faults`` replaces the
fault plan (a JSON :class:`~tests.support.faults.Faults`), ``GET /_faults`` returns what was
injected. Its own process keeps moto's global state away from tests that use ``mock_aws``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.support.faults import FaultMiddleware, Faults, Rule, moto_server

ROOT = Path(__file__).resolve().parents[2]
CONTROL_PATH = "/_faults"


def plan_from_json(data: dict[str, Any]) -> Faults:
    """Build a fault plan from its JSON form (the body of ``POST /_faults``)."""
    rules = [Rule(**{**rule, "exclude": tuple(rule.get("exclude", ()))}) for rule in data.pop("rules", [])]
    if "kinds" in data:
        data["kinds"] = tuple(data["kinds"])
    if "only" in data:
        data["only"] = frozenset(data["only"])
    return Faults(rules=rules, **data)


class ControlledMiddleware(FaultMiddleware):
    """FaultMiddleware whose plan is replaced and read over HTTP at ``/_faults``."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != CONTROL_PATH:
            return super().__call__(environ, start_response)
        if environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            self.faults = plan_from_json(json.loads(environ["wsgi.input"].read(length) or b"{}"))
        stats = {
            "injected": dict(self.faults.injected),
            "attempts": {str(k): v for k, v in self.faults.attempts.items()},
            "requests": len(self.faults.calls),
            "retries": self.faults.retries,
        }
        body = json.dumps(stats).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


class FaultServer:
    """Handle on a running fault server subprocess (see the module docstring)."""

    def __init__(self, regions: tuple[str, ...], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.fault_server", "--regions", ",".join(regions)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.kill()
            raise RuntimeError("fault server did not start")
        started = json.loads(line)
        self.endpoint: str = started["endpoint"]
        self.planted: list[dict[str, str]] = started["planted"]

    def plan(self, **plan: Any) -> dict[str, Any]:
        """Replace the fault plan (Faults fields; ``rules`` as dicts) and reset the counters."""
        plan["rules"] = [asdict(rule) if isinstance(rule, Rule) else rule for rule in plan.get("rules", [])]
        request = urllib.request.Request(self.endpoint + CONTROL_PATH, data=json.dumps(plan).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            result: dict[str, Any] = json.loads(response.read())
        return result

    def stats(self) -> dict[str, Any]:
        """What the current plan injected and how many attempts (and retries) the server saw."""
        with urllib.request.urlopen(self.endpoint + CONTROL_PATH, timeout=10) as response:
            result: dict[str, Any] = json.loads(response.read())
        return result

    def stop(self) -> None:
        """End the server process (it is ours: terminate it by handle, then wait)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def main() -> None:
    """Serve a seeded moto account behind the fault middleware until killed."""
    import boto3

    from relaudit.demo.seed import seed

    parser = argparse.ArgumentParser()
    parser.add_argument("--regions", default="us-east-1,eu-west-1")
    args = parser.parse_args()
    regions = tuple(args.regions.split(","))
    with moto_server(Faults(), middleware=ControlledMiddleware) as endpoint:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        session = boto3.session.Session()
        planted = seed(
            lambda service, region: session.client(service, region_name=region, endpoint_url=endpoint), regions
        )
        print(json.dumps({"endpoint": endpoint, "planted": [asdict(p) for p in planted]}), flush=True)
        threading.Event().wait()  # until SIGTERM


if __name__ == "__main__":
    main()
