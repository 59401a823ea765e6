"""Where the Lambda finds its policy file: an SSM parameter the stack names, else the packaged file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from relaudit.aws import error_code
from relaudit.policy.config import ConfigError, PolicyConfig, load_config, parse_config

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

CONFIG_PARAMETER_ENV = "RELAUDIT_CONFIG_PARAMETER"
# `make lambda-code` copies the repository's relaudit.yaml here when there is one.
PACKAGED_CONFIG = Path(__file__).resolve().parent.parent / "relaudit.yaml"
IAM_ACTIONS = frozenset({"ssm:GetParameter"})  # on the one parameter the stack names (template.yaml)


def deployed_config(
    env: Mapping[str, str], ssm: Callable[[], Any], packaged: Path = PACKAGED_CONFIG
) -> tuple[PolicyConfig, str]:
    """The deployed policy and where it came from (an empty policy and "" when none is deployed).

    Read on every invocation, so a changed parameter applies from the next run.

    Args:
        env: The function's environment (``RELAUDIT_CONFIG_PARAMETER`` names the SSM parameter).
        ssm: Makes the SSM client (called only when a parameter is named).
        packaged: The file shipped in the function's artifact.

    Raises:
        ConfigError: The parameter cannot be read, or the policy is invalid (names the field).
    """
    name = env.get(CONFIG_PARAMETER_ENV, "").strip()
    if name:
        source = f"SSM parameter {name}"
        try:
            value = ssm().get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        except ClientError as exc:
            code = error_code(exc)
            raise ConfigError(source, "", f"cannot be read ({code})") from None
        except BotoCoreError as exc:
            raise ConfigError(source, "", f"cannot be read ({type(exc).__name__})") from None
        return parse_config(str(value), source), source
    if packaged.is_file():
        source = f"packaged {packaged.name}"
        return load_config(packaged, source), source
    return PolicyConfig(), ""
