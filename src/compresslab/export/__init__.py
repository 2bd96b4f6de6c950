"""Export of trained networks to deployable formats (ONNX)."""

from compresslab.export.onnx import ExportResult, export_onnx, load_net, run_onnx

__all__ = ["ExportResult", "export_onnx", "load_net", "run_onnx"]
