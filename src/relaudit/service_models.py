"""botocore's service models held as compact JSON text, one loader shared by every session.

botocore keeps each service's whole ``service-2.json`` as nested dicts for the life of the session:
about 56 MB of live objects for the 27 services an audit with every check calls (EC2 alone 15 MB),
most of it shapes and documentation of operations relaudit never calls. :class:`CompactLoader`
drops the documentation and keeps each shape as one JSON string, decoded when botocore resolves
it: once per client and operation called, since botocore caches the operation models and shape
members it builds. A member account's session gets the same loader,
so an organization run loads each model once per process, not once per account.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from botocore.loaders import Loader
from botocore.regions import EndpointResolver

_DROPPED_KEYS = frozenset({"documentation", "documentationUrl"})
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _undocumented(value: Any) -> Any:
    if isinstance(value, dict):  # botocore reads models into OrderedDicts
        return {key: _undocumented(item) for key, item in value.items() if key not in _DROPPED_KEYS}
    if isinstance(value, list):
        return [_undocumented(item) for item in value]
    return value


class JsonTextMap(Mapping[str, Any]):
    """A read-only mapping of names to JSON text, each value decoded when it is read."""

    __slots__ = ("_text",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._text = {name: _encode(_undocumented(value)) for name, value in values.items()}

    def __getitem__(self, name: str) -> Any:
        return json.loads(self._text[name])

    def __contains__(self, name: object) -> bool:
        return name in self._text

    def __iter__(self) -> Iterator[str]:
        return iter(self._text)

    def __len__(self) -> int:
        return len(self._text)


def compact(model: dict[str, Any]) -> dict[str, Any]:
    """A service model without documentation whose ``shapes`` are a :class:`JsonTextMap`.

    Operations stay dicts: every client builds an OperationModel of each (for its methods' lazy
    docstrings), so text would be decoded into a copy per client and operation.
    """
    slim = {
        # botocore reads each client context parameter's documentation (S3's, when a client is made).
        key: value if key == "clientContextParams" else _undocumented(value)
        for key, value in model.items()
        if key not in ("shapes", *_DROPPED_KEYS)
    }
    slim["shapes"] = JsonTextMap(model.get("shapes", {}))
    if "clientContextParams" in model:  # botocore reads each one's documentation (S3's, for one)
        slim["clientContextParams"] = model["clientContextParams"]
    return slim


class CompactLoader(Loader):
    """A botocore Loader whose ``service-2`` models and endpoints are compact; safe to share across sessions."""

    _cache: dict[Any, Any]  # botocore's instance_cache store (set by Loader.__init__; not in its stubs)

    def __init__(self, extra_search_paths: list[str] | None = None) -> None:
        super().__init__(extra_search_paths=extra_search_paths)
        self._compacted: dict[tuple[str, str | None], dict[str, Any]] = {}
        self._endpoints: tuple[dict[str, Any], str] | None = None
        self._lock = threading.RLock()

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        """As botocore's, but ``service-2`` models come back compact and only the compact form is kept."""
        with self._lock:
            if type_name != "service-2":
                return super().load_service_model(service_name, type_name, api_version)
            key = (service_name, api_version)
            model = self._compacted.get(key)
            if model is None:
                full = super().load_service_model(service_name, type_name, api_version)
                model = self._compacted[key] = compact(full)
                self._forget(full)
            return model

    def load_data_with_path(self, name: str) -> Any:
        """As botocore's, but ``endpoints`` (every service's endpoints, 7 MB as dicts) compact.

        Each partition's ``services`` become a :class:`JsonTextMap`: a client reads its service's
        entry once, when it is made.
        """
        if name != "endpoints":
            return super().load_data_with_path(name)
        with self._lock:
            if self._endpoints is None:
                full, path = super().load_data_with_path(name)
                partitions = [{**p, "services": JsonTextMap(p.get("services", {}))} for p in full["partitions"]]
                self._endpoints = ({**full, "partitions": partitions}, path)
                self._forget(full)
            return self._endpoints

    def _forget(self, full: dict[str, Any]) -> None:
        # botocore's instance_cache keeps the full dict twice (the model, and the file's data with its
        # path); both entries go, or the compact copy would be an addition, not a replacement.
        # list() copies the items in one step under the GIL: another session's thread may be adding one.
        for key, value in list(self._cache.items()):
            if value is full or (type(value) is tuple and value and value[0] is full):
                del self._cache[key]


_shared: dict[str, CompactLoader] = {}
_shared_lock = threading.Lock()


def install(session: Any) -> None:
    """Give a boto3 session the process's shared :class:`CompactLoader` (before it makes clients).

    The loader honours the session's ``data_path`` setting (``AWS_DATA_PATH``) as botocore's own does.
    """
    core = session._session  # boto3 exposes no public handle on its botocore session's components
    data_path = core.get_config_variable("data_path") or ""
    with _shared_lock:
        loader = _shared.get(data_path)
        if loader is None:
            paths = [str(Path(os.path.expandvars(p)).expanduser()) for p in data_path.split(os.pathsep) if p]
            loader = _shared[data_path] = CompactLoader(extra_search_paths=paths)
    core.register_component("data_loader", loader)


def endpoint_regions(session: Any, endpoint_prefix: str, partitions: Iterable[str]) -> set[str]:
    """The regions botocore's endpoint data lists for ``endpoint_prefix`` in ``partitions``.

    What ``session.get_available_regions`` answers, without loading the service's model (which it
    does only to read the endpoint prefix): EC2's is the largest there is.
    """
    install(session)
    endpoints = session._session.get_component("data_loader").load_data("endpoints")
    resolver = EndpointResolver(endpoints)
    return {region for p in partitions for region in resolver.get_available_endpoints(endpoint_prefix, p)}
