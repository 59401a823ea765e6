"""`python -m relaudit.demo`: audit an embedded, seeded AWS account (moto on 127.0.0.1)."""

from __future__ import annotations

import logging
import os
import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3

from relaudit import cli
from relaudit.demo.seed import DEMO_REGIONS, seed

if TYPE_CHECKING:
    from collections.abc import Iterator

DEMO_ENV = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}


@contextmanager
def embedded_account() -> Iterator[str]:
    """Start a moto server on 127.0.0.1 (never 0.0.0.0) and yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """Seed the embedded account, audit it with the real CLI, and return the CLI's exit code."""
    for key, value in DEMO_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.pop("AWS_PROFILE", None)
    with embedded_account() as endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        session = boto3.session.Session()

        def client(service: str, region: str) -> Any:
            make: Any = session.client
            return make(service, region_name=region)

        started = time.monotonic()
        planted = seed(client)
        print(
            f"Embedded AWS account at {endpoint}: seeded {len({(p.region, p.name) for p in planted})} "
            f"resources over {len(DEMO_REGIONS)} regions in {time.monotonic() - started:.1f}s.\n",
            file=sys.stderr,
        )
        args = ["audit", "--regions", ",".join(DEMO_REGIONS), *(argv or [])]
        print(f"$ relaudit {' '.join(args)}\n", file=sys.stderr)
        code = cli.main(args)
    print(f"\nrelaudit exited with {code}.", file=sys.stderr)
    return 0 if code in (cli.EXIT_OK, cli.EXIT_FAILED) else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
