"""The OCSF schema the events are held to: OCSF's own schema export (packaged by ocsf-json-schema,
for the version and profiles relaudit declares) as JSON Schema, applied with jsonschema."""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

from relaudit.report import ocsf


@functools.cache
def validator() -> Draft202012Validator:
    """The compliance_finding class (uid 2003) with the events' profiles."""
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=ocsf.OCSF_VERSION))
    class_name = schema.lookup_class_name_from_uid(class_uid=ocsf.CLASS_UID)
    if class_name != "compliance_finding":
        raise AssertionError(f"OCSF class {ocsf.CLASS_UID} is {class_name}")
    json_schema = schema.get_class_schema(class_name=class_name, profiles=list(ocsf.PROFILES))
    return Draft202012Validator(json_schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(event: dict[str, Any]) -> list[str]:
    """Every schema violation of ``event``, as path: message."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(event)]
