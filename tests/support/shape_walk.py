"""Resolve field paths through a collector's DOCUMENT declaration and botocore's output shapes."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

from relaudit.catalog.evaluate import PARAMS_KEY
from relaudit.inventory import COLLECTORS, shapes

UNKNOWN = shapes.ANY


class Missing(Exception):
    """A path step that does not exist."""


@cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def steps_of(path: str) -> list[str]:
    steps: list[str] = []
    for token in filter(None, path.split(".")):
        name, lists = token.rstrip("[]"), (len(token) - len(token.rstrip("[]"))) // 2
        steps += [name] if name else []
        steps += ["[]"] * lists
    return steps


def _walk_botocore(shape: Shape, steps: list[str], where: str) -> Shape:
    for step in steps:
        if step == "[]":
            if not isinstance(shape, ListShape):
                raise Missing(f"{where}: {shape.name} is not a list")
            shape = shape.member
        elif step == "*":
            if not isinstance(shape, MapShape):
                raise Missing(f"{where}: {shape.name} is not a map")
            shape = shape.value
        else:
            shape = _member(shape, step, where)
    return shape


def _member(shape: Any, name: str, where: str) -> Any:
    if isinstance(shape, StructureShape):
        if name not in shape.members:
            raise Missing(f"{where}: {shape.name} has no member {name!r}")
        return shape.members[name]
    if isinstance(shape, MapShape):
        return shape.value
    raise Missing(f"{where}: {getattr(shape, 'name', shape)} has no fields (looking for {name!r})")


def resolve(spec: Any) -> Any:
    """An Api or Shape spec as the botocore shape it names; other specs unchanged."""
    if isinstance(spec, shapes.Api):
        output = _model(spec.service).operation_model(spec.operation).output_shape
        return _walk_botocore(output, steps_of(spec.path), f"{spec.service}.{spec.operation}")
    if isinstance(spec, shapes.Shape):
        return _model(spec.service).shape_for(spec.name)
    return spec


def field_of(spec: Any, name: str, where: str) -> Any:
    """The spec of field ``name`` of a value described by ``spec``."""
    spec = resolve(spec)
    if spec is UNKNOWN:
        return UNKNOWN
    if isinstance(spec, shapes.Fields):
        if name in spec.members:
            return spec.members[name]
        for base in reversed(spec.bases):
            try:
                return field_of(base, name, where)
            except Missing:
                continue
        raise Missing(f"{where}: no collector provides {name!r}")
    if isinstance(spec, shapes.Attributes):
        if name not in (_model(spec.service).shape_for(spec.enum).enum or []):
            raise Missing(f"{where}: {name!r} is not a {spec.service} {spec.enum}")
        return UNKNOWN
    if isinstance(spec, shapes.ListOf):
        raise Missing(f"{where}: a list has no field {name!r}")
    return _member(spec, name, where)


def element_of(spec: Any, where: str) -> Any:
    spec = resolve(spec)
    if isinstance(spec, shapes.ListOf):
        return spec.item
    if isinstance(spec, ListShape):
        return spec.member
    if isinstance(spec, MapShape):
        return spec.value
    return UNKNOWN  # a projection over a computed value or a structure's values


def walk(node: dict[str, Any], spec: Any, where: str) -> Any:
    """The spec of what ``node`` yields when evaluated on a value described by ``spec``."""
    kind, children = node["type"], node.get("children", [])
    if kind == "field":
        return UNKNOWN if node["value"] == PARAMS_KEY else field_of(spec, node["value"], where)
    if kind in ("subexpression", "pipe"):
        return walk(children[1], walk(children[0], spec, where), where)
    if kind in ("projection", "filter_projection"):
        item = element_of(walk(children[0], spec, where), where)
        for child in children[1:]:
            walk(child, item, where)
        return UNKNOWN
    if kind == "value_projection":
        walk(children[1], element_of(walk(children[0], spec, where), where), where)
        return UNKNOWN
    if kind in ("flatten", "index_expression"):
        return element_of(walk(children[0], spec, where), where)
    if kind == "current":
        return spec
    if kind == "function_expression" and any(c.get("type") == "expref" for c in children):
        return _with_expref(node, spec, where)
    for child in children:  # functions, comparisons, boolean logic, multi-selects: each on spec
        if isinstance(child, dict):
            walk(child, spec, where)
    return UNKNOWN


def _elements(node: dict[str, Any], spec: Any, where: str) -> Any:
    """The spec of the items of the array ``node`` yields (a projection's items are its source's
    items with the projection's filter applied, which keeps their fields)."""
    if node["type"] in ("projection", "filter_projection"):
        walk(node, spec, where)  # the filter's own fields
        return element_of(walk(node["children"][0], spec, where), where)
    return element_of(walk(node, spec, where), where)


def _with_expref(node: dict[str, Any], spec: Any, where: str) -> Any:
    """``max_by``, ``min_by``, ``sort_by``, ``map``: the ``&expression`` runs on each item of the
    array argument; ``max_by``/``min_by`` yield one of those items."""
    arrays = [child for child in node["children"] if child.get("type") != "expref"]
    item = _elements(arrays[0], spec, where) if arrays else UNKNOWN
    for child in node["children"]:
        if child.get("type") == "expref":
            walk(child["children"][0], item, where)
    return item if node["value"] in ("max_by", "min_by") else UNKNOWN


def document_spec(resource_type: str) -> Any:
    return import_module(COLLECTORS[resource_type]).DOCUMENT


def reads_of(resource_type: str) -> list[shapes.Api]:
    """Every API output a collector reads: those its documents copy, and its READS."""
    module = import_module(COLLECTORS[resource_type])
    return [*apis_of(module.DOCUMENT), *getattr(module, "READS", ())]


def apis_of(spec: Any) -> list[shapes.Api]:
    if isinstance(spec, shapes.Api):
        return [spec]
    if isinstance(spec, shapes.Fields):
        return [a for s in (*spec.bases, *spec.members.values()) for a in apis_of(s)]
    if isinstance(spec, shapes.ListOf):
        return apis_of(spec.item)
    return []
