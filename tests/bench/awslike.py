"""A WSGI middleware that makes moto's server behave like AWS: round-trip latency and throttling.

Every request is classified into (account, region, service, operation) from its SigV4
credential scope and its protocol (query ``Action``, JSON ``X-Amz-Target``, REST method and
path), charged to the per-(account, region) token buckets AWS documents (the table in
``relaudit.ratelimit``, at full rate), and answered with the throttling error that service's
protocol uses when its bucket is empty. Counters are served at ``/_bench/stats``.
"""

from __future__ import annotations

import io
import json
import random
import re
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import botocore.session

from relaudit.ratelimit import Rate, TokenBucket, buckets_for

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from botocore.model import ServiceModel

WSGIApp = Any  # Callable[[dict, start_response], Iterable[bytes]]
_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")

# Signing names shared by several botocore services (tried in order); others map to themselves.
SIGNING_ALIASES: dict[str, tuple[str, ...]] = {
    "elasticloadbalancing": ("elbv2", "elb"),
    "apigateway": ("apigateway", "apigatewayv2"),
    "monitoring": ("cloudwatch",),
    "elasticfilesystem": ("efs",),
    "es": ("opensearch", "es"),
    "states": ("stepfunctions",),
    "email": ("ses", "sesv2"),
    "servicequotas": ("service-quotas",),
}


@dataclass(frozen=True)
class Call:
    """One classified request."""

    account: str
    region: str
    service: str
    operation: str
    protocol: str
    unfiltered: bool = False


@dataclass
class _RestOperation:
    name: str
    method: str
    pattern: re.Pattern[str]
    query_keys: tuple[str, ...]
    score: int


def _rest_operations(model: ServiceModel) -> list[_RestOperation]:
    operations = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/")
        path, _, query = uri.partition("?")
        regex, literal = "", 0
        for piece in re.split(r"(\{[^}]+\})", path):
            if piece.startswith("{"):
                regex += ".+" if piece.endswith("+}") else "[^/]+"
            else:
                regex += re.escape(piece)
                literal += len(piece)
        keys = tuple(part.split("=", 1)[0] for part in query.split("&") if part)
        pattern = re.compile(f"^{regex.rstrip('/')}/?$")
        operations.append(_RestOperation(name, http.get("method", "GET"), pattern, keys, literal * 10 + len(keys)))
    operations.sort(key=lambda op: -op.score)
    return operations


class Classifier:
    """Turns a WSGI request into a :class:`Call`, using botocore's own service models (loaded lazily)."""

    def __init__(self) -> None:
        self._session = botocore.session.get_session()
        self._available = set(self._session.get_available_services())
        self._models: dict[str, ServiceModel] = {}
        self._rest: dict[str, list[_RestOperation]] = {}
        self._lock = threading.Lock()

    def _model(self, service: str) -> ServiceModel:
        with self._lock:
            if service not in self._models:
                self._models[service] = self._session.get_service_model(service)
            return self._models[service]

    def _rest_ops(self, service: str) -> list[_RestOperation]:
        model = self._model(service)
        with self._lock:
            if service not in self._rest:
                self._rest[service] = _rest_operations(model)
            return self._rest[service]

    def classify(self, environ: dict[str, Any], body: bytes) -> Call | None:
        """Classify a request; None when it carries no SigV4 credential scope."""
        match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if not match:
            return None
        access_key, region, signing = match.groups()
        form = self._form(environ, body)
        candidates = SIGNING_ALIASES.get(signing, (signing,))
        for service in (name for name in candidates if name in self._available):
            model = self._model(service)
            operation = self._operation(service, model, environ, form)
            if operation:
                unfiltered = service == "ec2" and not any(
                    key == "MaxResults" or key.startswith("Filter.") or key.endswith("Id.1") for key in form
                )
                return Call(access_key, region, service, operation, model.protocol, unfiltered)
        return Call(access_key, region, signing, "Unknown", "unknown")

    @staticmethod
    def _form(environ: dict[str, Any], body: bytes) -> dict[str, str]:
        pairs = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            pairs.update(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
        return {key: values[0] for key, values in pairs.items()}

    def _operation(self, service: str, model: ServiceModel, environ: dict[str, Any], form: dict[str, str]) -> str:
        protocol = model.protocol
        if protocol in ("query", "ec2"):
            if form.get("Version") not in (None, model.api_version):
                return ""
            return form.get("Action", "")
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if protocol == "json" or target:
            prefix, _, operation = target.rpartition(".")
            return operation if prefix == model.metadata.get("targetPrefix") else ""
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        split = urlsplit(raw)
        path, query = split.path, parse_qs(split.query or environ.get("QUERY_STRING", ""), keep_blank_values=True)
        method = environ.get("REQUEST_METHOD", "GET")
        for op in self._rest_ops(service):
            if op.method == method and op.pattern.match(path) and all(key in query for key in op.query_keys):
                return op.name
        return ""


def throttle_response(call: Call) -> tuple[str, list[tuple[str, str]], bytes]:
    """The status, headers and body AWS answers a throttled ``call`` with, per protocol."""
    request_id = str(uuid.uuid4())
    if call.protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>'
            f"<Message>Request limit exceeded.</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return "503 Service Unavailable", [("Content-Type", "text/xml")], body.encode()
    if call.protocol == "query":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return "400 Bad Request", [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()
    if call.protocol == "json":
        payload = {"__type": "ThrottlingException", "message": "Rate exceeded"}
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", request_id)]
        if call.service == "sqs":  # awsQueryCompatible: the query-protocol code rides in a header
            headers.append(("x-amzn-query-error", "ThrottlingException;Sender"))
        return "400 Bad Request", headers, json.dumps(payload).encode()
    # rest-json (Lambda, API Gateway, Security Hub): HTTP 429 TooManyRequestsException.
    payload = {"message": "Rate exceeded"}
    if call.service == "lambda":
        payload.update({"Type": "User", "Reason": "CallerRateLimitExceeded", "retryAfterSeconds": "1"})
    if call.service in ("apigateway", "apigatewayv2"):
        payload = {"message": "Too Many Requests"}
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-ErrorType", "TooManyRequestsException"),
        ("x-amzn-RequestId", request_id),
    ]
    return "429 Too Many Requests", headers, json.dumps(payload).encode()


@dataclass
class Stats:
    """What the fake AWS saw since the last reset."""

    calls: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    throttled: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: dict[tuple[str, str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    server_max: dict[tuple[str, str, str], float] = field(default_factory=lambda: defaultdict(float))
    latency_seconds: float = 0.0
    server_seconds: float = 0.0
    first_request_at: float | None = None
    last_response_at: float | None = None
    peak_in_flight: int = 0

    def as_json(self) -> dict[str, Any]:
        """Counters as JSON (keys ``region/service/operation``)."""
        return {
            "calls": {"/".join(key): count for key, count in sorted(self.calls.items())},
            "throttled": {"/".join(key): count for key, count in sorted(self.throttled.items())},
            "statuses": dict(sorted(self.statuses.items())),
            "errors": {"/".join(key): count for key, count in sorted(self.errors.items())},
            "slowest": {
                "/".join(key): round(seconds, 3)
                for key, seconds in sorted(self.server_max.items(), key=lambda kv: -kv[1])[:10]
            },
            "latency_seconds": round(self.latency_seconds, 4),
            "server_seconds": round(self.server_seconds, 4),
            "first_request_at": self.first_request_at,
            "last_response_at": self.last_response_at,
            "peak_in_flight": self.peak_in_flight,
        }


class AwsLikeMiddleware:
    """Wraps a WSGI app (moto's) with AWS-like latency and per-(account, region, bucket) throttling.

    Args:
        app: The wrapped WSGI application.
        latency: (low, high) seconds of round trip added to each call, drawn uniformly; half is
            spent before the bucket is charged (the request travelling), half after (the answer).
        throttle: Answer throttling errors when a bucket is empty.
        rules: Call -> buckets; the documented table by default.
        clock, sleep, rng: Injectable for tests.
    """

    def __init__(
        self,
        app: WSGIApp,
        latency: tuple[float, float] = (0.02, 0.05),
        throttle: bool = True,
        rules: Callable[[str, str, bool], tuple[Any, ...]] = buckets_for,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        classifier: Classifier | None = None,
    ) -> None:
        self.app = app
        self.latency = latency
        self.throttle = throttle
        self._rules = rules
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random(6)
        self._classifier = classifier or Classifier()
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self._in_flight = 0
        self.stats = Stats()

    def reset(self) -> None:
        """Forget counters and refill every bucket."""
        with self._lock:
            self._buckets.clear()
            self.stats = Stats()

    def _bucket(self, key: tuple[str, str, str], rate: Rate) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(rate, self._clock)
            return bucket

    def admit(self, call: Call) -> bool:
        """Charge ``call`` to its buckets; False when one is empty (the call is throttled)."""
        if not self.throttle:
            return True
        for bucket in self._rules(call.service, call.operation, call.unfiltered):
            if not self._bucket((call.account, call.region, bucket.name), bucket.rate).try_take():
                return False
        return True

    def _control(self, environ: dict[str, Any], start_response: Any, body: bytes) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/_bench/reset":
            self.reset()
            payload: dict[str, Any] = {"ok": True}
        elif path == "/_bench/config":
            config = json.loads(body or b"{}")
            if "latency" in config:
                low, high = config["latency"]
                self.latency = (float(low), float(high))
            if "throttle" in config:
                self.throttle = bool(config["throttle"])
            payload = {"latency": self.latency, "throttle": self.throttle}
        else:
            payload = self.stats.as_json()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(payload).encode()]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if environ.get("PATH_INFO", "").startswith("/_bench/"):
            return self._control(environ, start_response, body)
        arrived = time.time()
        call = self._classifier.classify(environ, body)
        delay = self._rng.uniform(*self.latency) if self.latency[1] > 0 else 0.0
        with self._lock:
            stats = self.stats
            if stats.first_request_at is None:
                stats.first_request_at = arrived
            self._in_flight += 1
            stats.peak_in_flight = max(stats.peak_in_flight, self._in_flight)
            stats.latency_seconds += delay
        try:
            return self._serve(environ, start_response, call, delay, stats)
        finally:
            with self._lock:
                self._in_flight -= 1
                stats.last_response_at = time.time()

    def _serve(
        self, environ: dict[str, Any], start_response: Any, call: Call | None, delay: float, stats: Stats
    ) -> list[bytes]:
        if delay:
            self._sleep(delay / 2)
        key = (call.region, call.service, call.operation) if call else ("-", "unsigned", "-")
        with self._lock:
            stats.calls[key] += 1
        if call is not None and not self.admit(call):
            with self._lock:
                stats.throttled[key] += 1
            status, headers, payload = throttle_response(call)
            chunks = [payload]
        else:
            captured: dict[str, Any] = {}

            def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
                captured["status"], captured["headers"] = status, headers
                return lambda data: None

            started = time.monotonic()
            result = self.app(environ, capture)
            try:
                chunks = list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            spent = time.monotonic() - started
            with self._lock:
                stats.server_seconds += spent
                stats.server_max[key] = max(stats.server_max[key], spent)
            status, headers = captured["status"], captured["headers"]
        with self._lock:
            stats.statuses[status[:3]] += 1
            if not status.startswith("2"):
                stats.errors[(*key, status[:3])] += 1
        if delay:
            self._sleep(delay / 2)
        start_response(status, headers)
        return chunks
