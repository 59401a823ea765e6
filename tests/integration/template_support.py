"""template.yaml for tests: the SAM source, its offline translation, and a resolver of intrinsic functions."""

from __future__ import annotations

import copy
import functools
import os
from typing import Any

from tests.conftest import ROOT

TEMPLATE = ROOT / "template.yaml"
ORG_MODE = "OrgModeEnabled"  # the condition of every organization-mode resource (OrgMode=true)
ARTIFACT_BUCKET = "relaudit-artifacts"
ARTIFACT_KEY = "relaudit.zip"


class NoIAMLoader:
    """Managed-policy loader for the translator: never calls IAM (names resolve from SAM's bundled map)."""

    calls = 0

    def load(self) -> dict[str, str]:
        NoIAMLoader.calls += 1
        return {}


@functools.cache
def _sam() -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    parsed: dict[str, Any] = yaml_parse(TEMPLATE.read_text())
    return parsed


def sam_template() -> dict[str, Any]:
    """template.yaml as SAM source (a fresh copy)."""
    return copy.deepcopy(_sam())


@functools.cache
def _translated() -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    sam = sam_template()
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            # What `sam package` does: a local CodeUri becomes an S3 object.
            resource["Properties"]["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{ARTIFACT_KEY}"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator needs a region, no credentials
    cfn: dict[str, Any] = transform(sam, {}, NoIAMLoader())
    return cfn


def translated() -> dict[str, Any]:
    """template.yaml translated offline by aws-sam-translator into plain CloudFormation (a fresh copy)."""
    return copy.deepcopy(_translated())


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """The template's resources of one type, by logical id."""
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    """Each parameter's default, as the string CloudFormation would pass."""
    return {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}


NO_VALUE = object()


class Resolver:
    """Evaluate the intrinsic functions template.yaml uses (Ref, GetAtt, Sub, If, Equals, Not).

    Args:
        template: A CloudFormation template (translated).
        parameters: Parameter values; missing ones take their defaults.
        refs: Logical id to what ``Ref`` returns (physical ids); pseudo parameters are added.
        attributes: (logical id, attribute) to what ``Fn::GetAtt`` returns.
    """

    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, str] | None = None,
        refs: dict[str, str] | None = None,
        attributes: dict[tuple[str, str], str] | None = None,
    ) -> None:
        self.template = template
        self.values: dict[str, Any] = {
            **parameter_defaults(template),
            **(parameters or {}),
            "AWS::Partition": "aws",
            "AWS::Region": "us-east-1",
            "AWS::AccountId": "123456789012",
            "AWS::StackName": "relaudit",
            "AWS::URLSuffix": "amazonaws.com",
            **(refs or {}),
        }
        self.attributes = attributes or {}

    def condition(self, name: str) -> bool:
        """The value of a named condition."""
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated; ``Ref AWS::NoValue`` entries removed."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return NO_VALUE if arg == "AWS::NoValue" else self.values[arg]
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.attributes[(logical, attribute)]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::If":
                name, then, otherwise = arg
                return self.resolve(then if self.condition(name) else otherwise)
            if key == "Fn::Equals":
                left, right = (str(self.resolve(side)) for side in arg)
                return left == right
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(item) for item in arg)
            if key == "Condition":
                return self.condition(arg)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        for name, replacement in extra.items():
            text = text.replace("${" + name + "}", str(self.resolve(replacement)))
        while "${" in text:
            start = text.index("${")
            end = text.index("}", start)
            name = text[start + 2 : end]
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                replacement = self.attributes[(logical, attribute)]
            else:
                replacement = self.values[name]
            text = text[:start] + str(replacement) + text[end + 1 :]
        return text
