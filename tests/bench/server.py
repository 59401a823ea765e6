"""`python -m tests.bench.server`: a seeded moto server on 127.0.0.1 that behaves like AWS.

Prints one JSON line (endpoint, seed manifest, seconds) once it serves. It stops when its
standard input closes (the benchmark that started it is gone) or after ``--ttl`` seconds,
whichever comes first, so it never outlives a run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from typing import Any

os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_var, None)


def page_lambda_list_functions() -> None:
    """Make moto's ListFunctions page like AWS (at most 50 per page, Marker/NextMarker).

    moto 5.2 returns every function in one response, which hides both the page count an auditor
    pays on AWS and its memory profile (one multi-megabyte response instead of 50-function pages).
    """
    import json as _json

    from moto.awslambda.responses import LambdaResponse

    def list_functions(self: Any) -> str:
        version = self.querystring.get("FunctionVersion", [None])[0]
        start = int(self.querystring.get("Marker", ["0"])[0] or 0)
        size = min(50, int(self.querystring.get("MaxItems", ["50"])[0] or 50))
        functions = list(self.backend.list_functions(version))
        result: dict[str, Any] = {"Functions": [fn.get_configuration() for fn in functions[start : start + size]]}
        if start + size < len(functions):
            result["NextMarker"] = str(start + size)
        return _json.dumps(result)

    LambdaResponse.list_functions = list_functions


def main(argv: list[str] | None = None) -> int:
    """Seed, serve until stdin closes or the TTL passes, then exit."""
    parser = argparse.ArgumentParser(prog="tests.bench.server")
    parser.add_argument("--resources", type=int, default=0)
    parser.add_argument("--regions", default="us-east-1,eu-west-1,ap-southeast-2")
    parser.add_argument("--skew", type=float, default=0.0)
    parser.add_argument("--latency", default="0.02,0.05", help="low,high seconds per round trip")
    parser.add_argument("--no-throttle", action="store_true")
    parser.add_argument("--ttl", type=float, default=1800.0, help="hard stop after this many seconds")
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from relaudit.demo.moto_gaps import MotoGapsMiddleware
    from tests.bench.awslike import AwsLikeMiddleware

    class KeepAliveHandler(MotoRequestHandler):
        """HTTP/1.1, so a client keeps its connections as it does with AWS (werkzeug's default,
        HTTP/1.0, makes every call a new TCP connection and a new server thread)."""

        protocol_version = "HTTP/1.1"

    from tests.bench.seed import seed

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    page_lambda_list_functions()
    started = time.monotonic()
    regions = [r for r in args.regions.split(",") if r]
    manifest = seed(args.resources, regions, args.skew) if args.resources else {}
    seed_seconds = time.monotonic() - started
    low, high = (float(x) for x in args.latency.split(","))
    # The three APIs moto 5.2 lacks (Lambda GetAccountSettings, Backup ListProtectedResources,
    # Service Quotas lists) are answered as the demo answers them, behind the same latency and buckets.
    moto_app = MotoGapsMiddleware(DomainDispatcherApplication(create_backend_app))
    app = AwsLikeMiddleware(moto_app, (low, high), not args.no_throttle)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=KeepAliveHandler)
    host, port = server.server_address[:2]

    def stop_when_parent_leaves() -> None:
        sys.stdin.read()
        server.shutdown()

    threading.Thread(target=stop_when_parent_leaves, daemon=True).start()
    timer = threading.Timer(args.ttl, server.shutdown)
    timer.daemon = True
    timer.start()
    print(json.dumps({"endpoint": f"http://{host}:{port}", "manifest": manifest, "seed_seconds": seed_seconds}))
    sys.stdout.flush()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
