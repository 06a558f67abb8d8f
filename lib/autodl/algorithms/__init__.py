"""Search algorithms, each a small class on the shared engine."""
