"""Every nn.Module of the library, built by name with :func:`create_model`.

Each sub-module below registers its builders when imported.
"""
from .registry import MODELS, create_model, register_model, resolve_model_config
from . import simple  # noqa: F401
from . import nb201  # noqa: F401
from . import nasnet  # noqa: F401
from . import supernet_nb201, supernet_nasnet  # noqa: F401
from . import densenet, mobilenet, resnet_cifar, resnet_imagenet, wide_resnet  # noqa: F401
from . import shape_infer, shape_search, shape_torchvision  # noqa: F401

__all__ = ["MODELS", "create_model", "register_model", "resolve_model_config"]
