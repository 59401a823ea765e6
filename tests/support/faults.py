"""Fault injection for tests: botocore hooks for in-process moto, a WSGI middleware for a moto server.

One ``Faults`` plan drives both. In process, :meth:`Faults.install` registers a ``before-send``
handler on a boto3 session, so every client the session makes afterwards (a ClientFactory's
included) sees the faults *through botocore's retry logic*, like errors off the wire. Against a
moto server, :func:`moto_server` puts :class:`FaultMiddleware` between the socket and moto's app, so
a subprocess (the real ``relaudit`` CLI) meets real HTTP errors, dropped connections and slow
responses on 127.0.0.1.

Which request fails is decided by hashing the request (method, URL, body, attempt number) with a
seed, never by a shared random stream: thread scheduling cannot change which calls fail, so a run
against the same account is reproducible (resource ids in URLs differ between seedings).

This lives under tests/: nothing here is importable from the Lambda artifact.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

# Runs the real Lambda handler in a child process (its own metrics, logs and environment), with the
# event as argv[1]; prints "RESPONSE <json>".
HANDLER_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from relaudit.handlers import handler

    class Context:
        function_name = "relaudit-audit"
        memory_limit_in_mb = 1024
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:relaudit-audit"
        aws_request_id = "req-1"

        def get_remaining_time_in_millis(self):
            return 900_000

    print("RESPONSE " + json.dumps(handler(json.loads(sys.argv[1]), Context())))
    """
)
TRANSIENT_KINDS = ("throttle", "internal-error", "unavailable", "reset", "read-timeout")
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_ATTEMPT = re.compile(r"attempt=(\d+)")
# Throttling codes as each protocol family spells them (all in botocore's throttling list).
_THROTTLE_CODE = {"query": "Throttling", "ec2": "RequestLimitExceeded", "json": "ThrottlingException"}


@dataclass(frozen=True)
class Call:
    """What a fault rule sees of one HTTP attempt."""

    service: str  # SigV4 signing name: lambda, ec2, rds, elasticloadbalancing, apigateway, sqs, sts ...
    region: str
    operation: str  # "" when it cannot be read off the request (REST protocols)
    attempt: int  # 1 for the first try, 2 for the first retry ...
    key: bytes  # method, URL and body: what makes two requests "the same request"
    form: bool = False  # a form-encoded body: the query (or ec2) protocol

    @property
    def protocol(self) -> str:
        """Error-body family: ``ec2`` (XML), ``query`` (XML) or ``json`` (JSON and REST-JSON)."""
        if self.service == "ec2":
            return "ec2"
        return "query" if self.form else "json"


@dataclass(frozen=True)
class Rule:
    """A persistent fault: every attempt to ``service`` ("*": any) in ``region`` (None: any) fails.

    ``codes`` overrides ``code`` per protocol family (``query``, ``ec2``, ``json``), since AWS spells
    the same refusal differently (AccessDenied, UnauthorizedOperation, AccessDeniedException).
    ``status`` 0 means "endpoint unreachable": botocore's EndpointConnectionError, what a client
    meets when a service has no endpoint in a region.
    """

    service: str
    code: str | None = None
    status: int = 403
    region: str | None = None
    codes: dict[str, str] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    message: str = "injected"

    def matches(self, call: Call) -> bool:
        """True when ``call`` is covered by this rule."""
        if call.service in self.exclude:
            return False
        return self.service in ("*", call.service) and self.region in (None, call.region)

    def code_for(self, call: Call) -> str:
        """The error code ``call`` gets ("unreachable" for status 0)."""
        if self.status == 0:
            return "unreachable"
        return self.codes.get(call.protocol) or self.code or "AccessDenied"


def access_denied(service: str, region: str | None = None) -> Rule:
    """AccessDenied as each protocol family spells it."""
    codes = {"query": "AccessDenied", "ec2": "UnauthorizedOperation", "json": "AccessDeniedException"}
    return Rule(service, codes=codes, region=region, message="User is not authorized to perform this action")


def region_not_opted_in(region: str) -> Rule:
    """Every service in a region the account has not opted in to: AWS rejects the credentials."""
    codes = {"query": "InvalidClientTokenId", "ec2": "AuthFailure", "json": "UnrecognizedClientException"}
    return Rule("*", codes=codes, region=region, message="The security token included in the request is invalid.")


def credentials_expired() -> Rule:
    """Every call but STS's (the run identified the account before the credentials expired)."""
    codes = {"query": "ExpiredToken", "ec2": "RequestExpired", "json": "ExpiredTokenException"}
    return Rule("*", codes=codes, exclude=("sts",), message="The security token included in the request is expired")


def endpoint_unreachable(service: str, region: str | None = None) -> Rule:
    """A service with no endpoint in a region (botocore: EndpointConnectionError)."""
    return Rule(service, status=0, region=region)


def call_of(method: str, url: str, headers: Mapping[str, Any], body: bytes, operation: str = "") -> Call:
    """Describe one signed HTTP attempt (service and region come from the SigV4 credential scope)."""
    lower = {k.lower(): v.decode() if isinstance(v, bytes) else str(v) for k, v in headers.items()}
    scope = _SCOPE.search(lower.get("authorization", ""))
    region, service = scope.groups() if scope else ("", "")
    attempt_match = _ATTEMPT.search(lower.get("amz-sdk-request", ""))
    form = "x-www-form-urlencoded" in lower.get("content-type", "")
    if not operation:
        target = lower.get("x-amz-target", "")
        if target:
            operation = target.rsplit(".", 1)[-1]
        elif form:
            found = re.search(rb"(?:^|&)Action=([A-Za-z0-9]+)", body)
            operation = found.group(1).decode() if found else ""
    return Call(
        service=service,
        region=region,
        operation=operation,
        attempt=int(attempt_match.group(1)) if attempt_match else 1,
        key=method.encode() + b" " + url.encode() + b"\n" + body,
        form=form,
    )


def error_response(call: Call, status: int, code: str, message: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of an AWS error response in ``call``'s protocol, as botocore parses them."""
    if call.protocol in ("ec2", "query"):
        # botocore's query and ec2 parsers both read <Errors><Error><Code> under any root element.
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
        )
        return {"Content-Type": "text/xml"}, body.encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code, "x-amzn-RequestId": "0"}
    return headers, json.dumps({"__type": code, "message": message, "Message": message}).encode()


class _Raw:
    """The ``raw`` of an AWSResponse: what botocore streams the body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class Faults:
    """A fault plan: a seeded transient error rate, plus persistent per-service/region rules.

    Attributes:
        rate: Fraction of attempts that fail transiently (0.1 is 10%), drawn by hashing each request.
        every: Fail exactly every Nth covered attempt instead (10: a 10% rate whatever the request
            mix), cycling through ``kinds``; which request gets hit then depends on thread timing.
        kinds: Transient kinds to draw from (see TRANSIENT_KINDS).
        seed: Changes which requests fail, reproducibly.
        rules: Persistent faults, checked before transient ones.
        fail_first: Fail the first N attempts of every request with ``fail_first_kind``, then pass.
        only: Restrict transient faults to these services (signing names); empty means all.
        slow_seconds: How long the middleware holds a "read-timeout" response.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = TRANSIENT_KINDS
    seed: int = 0
    rules: list[Rule] = field(default_factory=list)
    every: int = 0
    fail_first: int = 0
    fail_first_kind: str = "unavailable"
    only: frozenset[str] = frozenset()
    slow_seconds: float = 1.0
    injected: Counter[str] = field(default_factory=Counter)
    attempts: Counter[int] = field(default_factory=Counter)
    calls: list[tuple[float, Call]] = field(default_factory=list)  # (time.monotonic(), call)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counted: int = 0

    # -- the decision, shared by hook and middleware --------------------------------------------

    def _fraction(self, call: Call, salt: str) -> float:
        digest = hashlib.sha256(f"{self.seed}|{salt}|{call.attempt}|".encode() + call.key).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def decide(self, call: Call) -> tuple[str, Rule | None]:
        """Return ("pass" | a transient kind | "persistent", the rule) for one attempt; records it."""
        outcome: tuple[str, Rule | None] = ("pass", None)
        rule = next((r for r in self.rules if r.matches(call)), None)
        if rule is not None:
            outcome = ("persistent", rule)
        elif self.fail_first and call.attempt <= self.fail_first and self._covers(call):
            outcome = (self.fail_first_kind, None)
        elif self.every and self._covers(call):
            with self._lock:
                self._counted += 1
                if self._counted % self.every == 0:
                    outcome = (self.kinds[(self._counted // self.every - 1) % len(self.kinds)], None)
        elif self.rate and self._covers(call) and self._fraction(call, "rate") < self.rate:
            kinds = self.kinds
            outcome = (kinds[int(self._fraction(call, "kind") * len(kinds))], None)
        with self._lock:
            self.calls.append((time.monotonic(), call))
            self.attempts[call.attempt] += 1
            kind, rule = outcome
            if rule is not None:
                self.injected[rule.code_for(call)] += 1
            elif kind != "pass":
                self.injected[kind] += 1
        return outcome

    def _covers(self, call: Call) -> bool:
        return bool(call.service) and (not self.only or call.service in self.only)

    @property
    def total_injected(self) -> int:
        """Attempts failed on purpose so far."""
        return sum(self.injected.values())

    @property
    def retries(self) -> int:
        """Attempts after the first, i.e. retries the clients made."""
        return sum(count for attempt, count in self.attempts.items() if attempt > 1)

    def reset_counts(self) -> None:
        """Forget what was recorded (the plan stays)."""
        with self._lock:
            self.injected.clear()
            self.attempts.clear()
            self.calls.clear()
            self._counted = 0

    # -- in process: a botocore before-send hook ------------------------------------------------

    def install(self, session: Any) -> None:
        """Apply the plan to every client ``session`` (boto3) makes from now on."""
        session.events.register_first("before-send", self._before_send)

    def _before_send(self, request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = b""
        call = call_of(request.method, request.url, dict(request.headers), body, event_name.rsplit(".", 1)[-1])
        kind, rule = self.decide(call)
        if kind == "pass":
            return None
        if kind == "reset":
            raise ConnectionClosedError(endpoint_url=request.url)
        if kind == "read-timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        status, code, message = self._http_fault(call, kind, rule)
        if status == 0:
            raise EndpointConnectionError(endpoint_url=request.url)
        headers, payload = error_response(call, status, code, message)
        return AWSResponse(request.url, status, headers, _Raw(payload))

    @staticmethod
    def _http_fault(call: Call, kind: str, rule: Rule | None) -> tuple[int, str, str]:
        if rule is not None:
            return rule.status, rule.code_for(call), rule.message
        if kind == "throttle":
            return 400, _THROTTLE_CODE[call.protocol], "Rate exceeded"
        if kind == "internal-error":
            return 500, "InternalFailure", "We encountered an internal error. Please try again."
        return 503, "ServiceUnavailable", "Service is unavailable. Please try again."


class FaultMiddleware:
    """WSGI middleware in front of moto's app: applies a :class:`Faults` plan to real HTTP."""

    def __init__(self, app: Any, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {key[5:].replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")}
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        url = environ.get("PATH_INFO", "") + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
        call = call_of(environ["REQUEST_METHOD"], url, headers, body)
        kind, rule = self.faults.decide(call) if call.service else ("pass", None)
        if kind == "pass":
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        if kind == "read-timeout":
            time.sleep(self.faults.slow_seconds)  # the client gave up; the late answer goes nowhere
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        if kind == "reset" or (rule is not None and rule.status == 0):
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)  # the client reads EOF with no response
            start_response("500 Internal Server Error", [])
            return [b""]
        status, code, message = Faults._http_fault(call, kind, rule)
        response_headers, payload = error_response(call, status, code, message)
        start_response(f"{status} Injected", [*response_headers.items(), ("Content-Length", str(len(payload)))])
        return [payload]


@contextmanager
def moto_server(faults: Faults, middleware: type[FaultMiddleware] = FaultMiddleware) -> Iterator[str]:
    """Serve the demo's embedded account (moto on 127.0.0.1, with relaudit.demo.moto_gaps answering
    the few APIs moto lacks) behind :class:`FaultMiddleware`; yield the endpoint URL."""
    from relaudit.demo.__main__ import embedded_account

    with embedded_account(lambda app: middleware(app, faults)) as endpoint:
        yield endpoint
