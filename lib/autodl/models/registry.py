"""The model registry and the one constructor, :func:`create_model`."""
from __future__ import annotations

import inspect
import os
from typing import Any, Callable, Mapping

from torch import nn

from ..config import read_json_object
from ..errors import ConfigError
from ..registry import Registry

# the weight-sharing searches that change the mixed op register their supernets in their own module
MODELS: Registry[Callable[..., nn.Module]] = Registry("model", modules=("autodl.algorithms.oneshot",))


def register_model(name: str, builder: Callable[..., nn.Module] | None = None):
    """Register a model builder (a class or a function; its keyword arguments are the config keys);
    without ``builder`` it returns a decorator."""
    return MODELS.register(name, builder)


def resolve_model_config(config: Mapping[str, Any] | str | os.PathLike, **overrides: Any) -> dict[str, Any]:
    """The model config dict from a dict or a JSON path, with ``overrides`` replacing keys."""
    if isinstance(config, Mapping):
        data, origin = dict(config), "model config"
    else:
        data, origin = read_json_object(config, "a JSON object with a 'name' key"), str(config)
    data.update(overrides)
    if not isinstance(data.get("name"), str):
        raise ConfigError(
            f"{origin}: missing 'name'; expected the registered model name, one of: {', '.join(MODELS.names())}"
        )
    data["_origin"] = origin
    return data


def create_model(config: Mapping[str, Any] | str | os.PathLike, **overrides: Any) -> nn.Module:
    """Build a registered model from a config dict or JSON file; ``config["name"]`` picks the builder.

    ``overrides`` (for example ``num_classes=100``) replace keys of the config.  Keys the builder
    does not take, and required keys that are missing, raise a one-line ConfigError.
    """
    data = resolve_model_config(config, **overrides)
    origin = data.pop("_origin")
    builder = MODELS.get(data.pop("name"))
    params = inspect.signature(builder).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = sorted(set(data) - set(params))
    if unknown and not takes_any:
        raise ConfigError(f"{origin}: unknown key {unknown[0]!r}; expected keys: {', '.join(params)}")
    required = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    missing = [n for n, p in params.items()
               if p.kind in required and p.default is inspect.Parameter.empty and n not in data]
    if missing:
        raise ConfigError(f"{origin}: missing required key {missing[0]!r}")
    return builder(**data)
