"""TAS: transformable architecture search of the widths and depths of a ResNet under a FLOP target."""
from .config import ShapeSearchConfig
from .run import ShapeSearchResult, run_shape_search
from .task import ShapeSearchTask, best_epoch, cosine_tau

__all__ = ["ShapeSearchConfig", "ShapeSearchResult", "ShapeSearchTask", "best_epoch", "cosine_tau", "run_shape_search"]
