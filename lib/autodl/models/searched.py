"""Model configs that retrain a searched architecture from scratch, whatever form the architecture has."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..spaces.nasnet import GENOTYPES, Genotype
from ..spaces.nb201 import Arch

# The paper networks: NASNet space C36 N6 on CIFAR (C48 N4 on ImageNet), NB201 C16 N5.
NASNET_CIFAR = {"name": "nasnet-cifar", "C": 36, "N": 6, "stem_multiplier": 3, "auxiliary": True, "drop_path_prob": 0.2}
NASNET_IMAGENET = {"name": "nasnet-imagenet", "C": 48, "N": 4, "auxiliary": True, "drop_path_prob": 0.0}
NB201_NETWORK = {"name": "infer.tiny", "C": 16, "N": 5}


def resolve_searched_arch(arch: str | os.PathLike | Arch | Genotype) -> Arch | Genotype:
    """An :class:`Arch` or :class:`Genotype` from a published genotype name, an NB201 cell string, an
    architecture artifact path, or the value itself."""
    if isinstance(arch, (Arch, Genotype)):
        return arch
    text = str(arch)
    if text in GENOTYPES:
        return GENOTYPES[text]
    if text.startswith("|"):
        return Arch.from_str(text)
    if Path(text).is_file():
        from ..spaces.artifact import load_artifact

        loaded = load_artifact(text).arch
        return loaded if isinstance(loaded, Genotype) else Arch.from_str(loaded)
    raise ConfigError(f"architecture {text!r} is not a published genotype ({', '.join(GENOTYPES)}), an NB201 "
                      "cell string ('|op~0|+|...|') or an existing artifact file; pass one of those")


def searched_model_config(arch: str | os.PathLike | Arch | Genotype, imagenet: bool = False,
                          **overrides: Any) -> dict[str, Any]:
    """The model config of the paper network for ``arch``; ``overrides`` (C, N, ...) replace its keys."""
    value = resolve_searched_arch(arch)
    if isinstance(value, Arch):
        config = dict(NB201_NETWORK, arch_str=str(value))
    else:
        config = dict(NASNET_IMAGENET if imagenet else NASNET_CIFAR, genotype=value.to_dict())
    config.update({k: v for k, v in overrides.items() if v is not None})
    return config
