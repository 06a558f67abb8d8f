"""AutoDL: automated deep learning in PyTorch (NAS, HPO, NAS-Bench-201, baselines)."""
__version__ = "0.1.0"
