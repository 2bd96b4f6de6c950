"""Measurement core: params, MAdds, analytic peak RAM and latency — used by every run and every table."""

from compresslab.measure.latency import LatencyResult, measure_latency
from compresslab.measure.madds import MAddsResult, count_madds, countable_attention
from compresslab.measure.peak_ram import PeakRamResult, analytic_peak_ram, register_peak_ram_rule
from compresslab.measure.report import count_params, format_measure_table, measure_model, num_params

__all__ = [
    "LatencyResult",
    "MAddsResult",
    "PeakRamResult",
    "analytic_peak_ram",
    "count_madds",
    "count_params",
    "countable_attention",
    "format_measure_table",
    "measure_latency",
    "measure_model",
    "num_params",
    "register_peak_ram_rule",
]
