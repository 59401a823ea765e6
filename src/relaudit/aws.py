"""The one place boto3 clients are made: explicit timeouts, bounded retries, pooled connections."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from relaudit import service_models
from relaudit.ratelimit import RateLimiter

if TYPE_CHECKING:
    from collections.abc import Callable

USER_AGENT = "relaudit"


def error_code(exc: BaseException) -> str:
    """The AWS error code behind ``exc`` (following ``raise ... from``), an exception's own ``code``
    attribute (e.g. ``DeadlineExceeded``), else its type name: the one spelling of an error in
    gaps, reports and logs."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ClientError):
            return str(seen.response.get("Error", {}).get("Code") or "ClientError")
        seen = seen.__cause__
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else type(exc).__name__


def client_config(max_workers: int, max_attempts: int = 5, retry_mode: str = "standard") -> Config:
    """Build the botocore Config every relaudit client uses.

    Standard retries: throttling, 5xx, dropped connections and timeouts are retried with
    exponential backoff and full jitter (1 s base for throttling, 50 ms otherwise, capped at 20 s).
    Not ``adaptive``: client-side rate limiting is relaudit.ratelimit's, at AWS's documented rates;
    botocore's adaptive limiter, switched on by the first throttle, starts from the client's
    measured send rate, which for an auditor's sparse per-client calls is low (floor 0.5 req/s),
    and so stalls every later call of that client (a seeded audit with 10% transient faults took
    about three times as long; tests/integration/faults/test_transient.py).

    Args:
        max_workers: Threads that may share one client; the connection pool is sized to it.
        max_attempts: Total attempts per call, first one included.
        retry_mode: botocore retry mode, ``standard`` or ``adaptive``.
    """
    retries: Any = {"mode": retry_mode, "total_max_attempts": max_attempts}
    return Config(
        connect_timeout=5,
        read_timeout=30,
        retries=retries,
        max_pool_connections=max(10, max_workers),
        user_agent_extra=USER_AGENT,
    )


class ClientFactory:
    """Thread-safe cache of clients per (service, region) for one set of credentials.

    Clients are thread-safe once made; sessions are not, so creation is serialized on a lock.
    The session is given relaudit's compact model loader (:mod:`relaudit.service_models`), shared
    by every session of the process.
    """

    def __init__(
        self,
        session: boto3.session.Session | None = None,
        config: Config | None = None,
        limiter: RateLimiter | None = None,
        scope: str = "",
    ) -> None:
        """Make clients on demand, each waiting on the client-side rate limits before every attempt.

        Args:
            session: Credentials and home region (default: the standard AWS environment).
            config: botocore Config for every client (default: ``client_config(16)``).
            limiter: Rate limits every client waits on: a new one per factory by default, or one
                shared by the factories of one account (then give that account as ``scope``).
            scope: The key of this factory's buckets in ``limiter`` (the account id when shared).
        """
        self._session = session or boto3.session.Session()
        service_models.install(self._session)
        self._config = config or client_config(max_workers=16)
        self._writer_config = self._config.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))
        self._limiter = limiter if limiter is not None else RateLimiter()
        self._scope = scope
        self._clients: dict[tuple[str, str, bool], Any] = {}
        self._lock = threading.Lock()

    @property
    def session(self) -> boto3.session.Session:
        """The boto3 session behind this factory."""
        return self._session

    @property
    def config(self) -> Config:
        """The botocore Config every client of this factory gets."""
        return self._config

    @property
    def limiter(self) -> RateLimiter:
        """The client-side rate limits this factory's clients wait on."""
        return self._limiter

    @property
    def home_region(self) -> str:
        """The region of the session (AWS_REGION / AWS_DEFAULT_REGION / profile), else us-east-1."""
        return self._session.region_name or "us-east-1"

    def client(self, service: str, region: str | None = None) -> Any:
        """Return the cached client for ``service`` in ``region`` (the home region by default)."""
        return self._cached(service, region or self.home_region, writer=False)

    def writer(self, service: str, region: str | None = None) -> Any:
        """A client for the sinks' writes: botocore does not retry its calls.

        The sinks retry each write themselves (whole calls and the items a call leaves
        unprocessed, under DeliveryOptions), so botocore's own retries would multiply theirs: a
        throttled BatchImportFindings was tried 5 x 5 = 25 times.
        """
        retries: dict[str, Any] = getattr(self._config, "retries", None) or {}
        once = retries.get("total_max_attempts") == 1 or retries.get("max_attempts") == 0
        # Clients that already make one attempt are writers as they are: one client, not two.
        return self._cached(service, region or self.home_region, writer=not once)

    def _cached(self, service: str, region: str, *, writer: bool) -> Any:
        key = (service, region, writer)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    make: Any = self._session.client
                    client = make(service, region_name=region, config=self._writer_config if writer else self._config)
                    self._limiter.install(client, self._scope)
                    self._clients[key] = client
        return client

    def bound(self, region: str) -> Callable[[str], Any]:
        """A one-argument factory for ``region``, as collectors take it."""
        return lambda service: self.client(service, region)
