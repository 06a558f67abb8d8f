"""NAS-Bench-201: safe readers, a memory-mapped store and its converter, the drop-in and the modern APIs."""
from .common import BenchmarkError, default_benchmark_path, remap_dataset_set_names
from .compat import NASBench201API
from .modern import NB201Benchmark, ReportingWarning
from .readers import BenchmarkSource, load_archive_record, load_bz2_pickle, load_torch_file
from .records import ArchResults, ResultsCount
from .store import Store, convert

__all__ = [
    "ArchResults", "BenchmarkError", "BenchmarkSource", "NASBench201API", "NB201Benchmark", "ReportingWarning",
    "ResultsCount", "Store", "convert", "default_benchmark_path", "load_archive_record", "load_bz2_pickle",
    "load_torch_file", "remap_dataset_set_names",
]
