"""TAS: transformable architecture search of the widths and depths of a ResNet under a FLOP target."""
from .config import ShapeSearchConfig
from .run import BASELINES, ShapeSearchResult, run_shape_search, write_baseline_shape
from .task import ShapeSearchTask, best_epoch, cosine_tau

__all__ = ["BASELINES", "ShapeSearchConfig", "ShapeSearchResult", "ShapeSearchTask", "best_epoch", "cosine_tau",
           "run_shape_search", "write_baseline_shape"]
