"""ONNX export of a trained run's network or of a model config (RNNPool is for edge deployment).

    compresslab-export onnx <run dir> --out model.onnx
    compresslab-export onnx rnnpool/mobilenetv2_rnnpool --out model.onnx           # a conf/model file
    compresslab-export onnx rnnpool/mobilenetv2_rnnpool --out m.onnx model.net.downsample=renet data=cifar10

A run directory (``config_resolved.yaml`` + ``checkpoints/``) exports its trained ``model.net`` (best checkpoint,
``weights_only=True``) at the run's ``data.input_shape``; a model config is composed with ``compresslab-train``'s
config (``data=imagenet10`` unless an override names the data: the Table 1/2 setting, 3×224², 10 classes) and
exported with freshly initialised weights. Trailing ``key=value`` arguments are Hydra overrides.

The graph comes from ``torch.onnx.export(..., dynamo=True)`` (torch.export; RNNPool's loop over its r time
steps unrolls, ReNet's ``nn.GRU`` becomes ONNX GRU nodes), batch fixed at ``--batch``. Unless ``--no-check``,
the file is run with onnxruntime on a random input and its output compared with the network's: more than
``--atol`` (1e-4) apart is an error.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from compresslab.utils.checkpoint import load_run_config
from compresslab.utils.errors import CompresslabError, ConfigError
from compresslab.utils.io import atomic_path

DEFAULT_OPSET = 18


@dataclass(frozen=True)
class ExportResult:
    path: Path
    input_shape: tuple[int, ...]  # with the batch dimension
    output_shape: tuple[int, ...]
    max_abs_diff: float | None  # onnxruntime vs torch on one random input (None: not checked)


def load_net(source: str | Path, overrides: list[str] | None = None) -> tuple[nn.Module, tuple[int, ...]]:
    """(network in eval mode, one input's shape without batch) of a run directory or a model config name."""
    overrides = list(overrides or [])
    path = Path(source)
    if path.is_dir():
        from compresslab.models.distill import load_run_net

        if overrides:
            raise ConfigError(
                "overrides", overrides, "none for a run directory", "export the run as it was trained."
            )
        net = load_run_net(path)
        cfg = load_run_config(path)
        return net, tuple(int(v) for v in cfg.data.input_shape)
    return _net_from_config(str(source), overrides)


def _net_from_config(name: str, overrides: list[str]) -> tuple[nn.Module, tuple[int, ...]]:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from hydra.utils import instantiate

    from compresslab.utils.hydra_app import prepare_hydra

    name = name.removesuffix(".yaml").removeprefix("conf/model/")
    if not any(o.split("=", 1)[0].lstrip("+~") == "data" for o in overrides):
        overrides = ["data=imagenet10", *overrides]
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=prepare_hydra(), version_base="1.3"):
            cfg = compose("train", overrides=[f"model={name}", *overrides])
    except HydraException as err:
        raise ConfigError(
            "source",
            name,
            "a run directory or a model config under conf/model/ (e.g. rnnpool/mobilenetv2_rnnpool)",
            f"check the name and the overrides ({err}).",
        ) from None
    net = instantiate(cfg.model.net)
    return net.eval(), tuple(int(v) for v in cfg.data.input_shape)


def export_onnx(
    net: nn.Module,
    input_shape: tuple[int, ...],
    out: str | Path,
    batch: int = 1,
    opset: int = DEFAULT_OPSET,
    check: bool = True,
    atol: float = 1e-4,
    seed: int = 0,
) -> ExportResult:
    """Write ``net`` (eval mode) as ONNX to ``out``; with ``check``, compare onnxruntime with torch (module doc)."""
    out = Path(out)
    if out.suffix != ".onnx":
        raise ConfigError("--out", str(out), "a path ending in .onnx", "e.g. --out model.onnx.")
    out.parent.mkdir(parents=True, exist_ok=True)
    net = net.eval()
    x = torch.randn(batch, *input_shape, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        expected = net(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.export's deprecation chatter
        program = torch.onnx.export(
            net, (x,), dynamo=True, opset_version=opset, input_names=["input"], output_names=["logits"]
        )
    diff = None
    with atomic_path(out) as tmp:  # a checked file or none
        program.save(str(tmp))
        if check:
            got = run_onnx(tmp, x.numpy())
            diff = float((torch.from_numpy(got) - expected).abs().max())
            if not diff <= atol:
                raise CompresslabError(
                    f"ONNX export of {type(net).__name__}: onnxruntime's output differs from torch's by "
                    f"{diff:.3g} > atol {atol}; nothing written to {out}. Try another --opset or report the model."
                )
    return ExportResult(out, tuple(x.shape), tuple(expected.shape), diff)


def run_onnx(path: str | Path, x: Any, threads: int | None = None) -> Any:
    """onnxruntime's CPU output of the model at ``path`` on the numpy array ``x`` (its single input)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise CompresslabError(
            "onnxruntime is not installed: pip install onnxruntime (or pass --no-check)."
        ) from None
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="compresslab-export", description="Export networks to deployable formats."
    )
    sub = parser.add_subparsers(dest="format", required=True)
    onnx = sub.add_parser("onnx", help="ONNX (checked against onnxruntime)", description=__doc__)
    onnx.add_argument("source", help="a run directory, or a model config (e.g. rnnpool/mobilenetv2_rnnpool)")
    onnx.add_argument("overrides", nargs="*", help="Hydra overrides for a model config (key=value)")
    onnx.add_argument("--out", required=True, help="the .onnx file to write")
    onnx.add_argument("--batch", type=int, default=1, help="batch size of the exported graph (default 1)")
    onnx.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    onnx.add_argument("--atol", type=float, default=1e-4, help="max |onnxruntime − torch| allowed")
    onnx.add_argument("--no-check", action="store_true", help="skip the onnxruntime comparison")
    args = parser.parse_args(argv)
    try:
        net, shape = load_net(args.source, args.overrides)
        result = export_onnx(net, shape, args.out, args.batch, args.opset, not args.no_check, args.atol)
    except CompresslabError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 2
    check = (
        f"; onnxruntime vs torch max |Δ| = {result.max_abs_diff:.2e}"
        if result.max_abs_diff is not None
        else ""
    )
    print(
        f"wrote {result.path}: input {list(result.input_shape)} → output {list(result.output_shape)}{check}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
