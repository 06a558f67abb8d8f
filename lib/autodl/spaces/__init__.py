"""Search spaces: op sets, architecture encodings, enumeration and indexing."""
from .nb201 import (Arch, SpaceError, all_archs, arch_to_index, as_arch, benchmark_archs, index_to_arch,
                    mutate, sample)

__all__ = ["Arch", "SpaceError", "all_archs", "arch_to_index", "as_arch", "benchmark_archs", "index_to_arch",
           "mutate", "sample"]
