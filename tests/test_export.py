"""ONNX export (compresslab-export onnx): onnxruntime reproduces torch within 1e-4 for the RNNPool tables' models."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf

from compresslab.export.onnx import export_onnx, load_net, main, run_onnx
from compresslab.nets import rnnpool_backbones as backbones
from compresslab.utils.errors import ConfigError

ATOL = 1e-4


def _assert_onnx_equals_torch(net: torch.nn.Module, path, input_shape: tuple[int, ...]) -> float:
    """A fresh input (not the one the exporter checked) through onnxruntime and torch."""
    x = torch.randn(1, *input_shape, generator=torch.Generator().manual_seed(123))
    with torch.no_grad():
        expected = net.eval()(x)
    got = torch.from_numpy(run_onnx(path, x.numpy()))
    assert got.shape == expected.shape
    diff = (got - expected).abs().max().item()
    assert diff < ATOL, f"onnxruntime vs torch max |Δ| = {diff:.3g}"
    assert (
        expected.abs().max().item() > 1e-5
    )  # not a zero output (random-init EfficientNet-B0 logits are ~1e-4)
    return diff


@pytest.mark.parametrize("downsample", ["rnnpool", "renet"])
def test_mobilenetv2_rnnpool_and_renet_export_equal_onnxruntime(downsample, tmp_path):
    torch.manual_seed(0)
    net = backbones.mobilenetv2(num_classes=10, in_chans=1, width_mult=0.5, downsample=downsample)
    result = export_onnx(net, (1, 48, 48), tmp_path / "m.onnx")
    assert result.path.is_file() and result.max_abs_diff is not None and result.max_abs_diff < ATOL
    assert result.input_shape == (1, 1, 48, 48) and result.output_shape == (1, 10)
    _assert_onnx_equals_torch(net, result.path, (1, 48, 48))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("builder", "kwargs"),
    [
        (name, {"downsample": ds})
        for name in ("mobilenetv2", "efficientnet_b0", "resnet18", "densenet121", "googlenet")
        for ds in ("none", "rnnpool")
    ]
    + [("mobilenetv2", {"downsample": ds}) for ds in ("avgpool", "maxpool", "strided_conv", "renet")]
    + [("mobilenetv2", {"downsample": "rnnpool", "last_layer_rnnpool": True})],
)
def test_every_table_model_exports_at_224(builder, kwargs, tmp_path):
    torch.manual_seed(0)
    net = getattr(backbones, builder)(num_classes=10, **kwargs)
    result = export_onnx(net, (3, 224, 224), tmp_path / "m.onnx")
    _assert_onnx_equals_torch(net, result.path, (3, 224, 224))


def test_cli_exports_a_trained_run_with_its_weights(tmp_path, capsys):
    torch.manual_seed(0)
    net_cfg = {
        "_target_": "compresslab.nets.rnnpool_backbones.mobilenetv2",
        "num_classes": 10,
        "in_chans": 1,
        "width_mult": 0.5,
        "downsample": "rnnpool",
    }
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    OmegaConf.save(
        {"model": {"net": net_cfg}, "data": {"input_shape": [1, 48, 48]}}, run / "config_resolved.yaml"
    )
    trained = backbones.mobilenetv2(num_classes=10, in_chans=1, width_mult=0.5, downsample="rnnpool")
    state = {f"net.{k}": v for k, v in trained.state_dict().items()}
    torch.save({"state_dict": state}, run / "checkpoints" / "epoch_003.ckpt")
    out = tmp_path / "out" / "run.onnx"
    assert main(["onnx", str(run), "--out", str(out)]) == 0
    assert "onnxruntime vs torch max |Δ|" in capsys.readouterr().out
    _assert_onnx_equals_torch(trained, out, (1, 48, 48))  # the checkpoint's weights, not a fresh init
    net, shape = load_net(run)
    assert shape == (1, 48, 48) and torch.equal(
        net.state_dict()["conv_stem.downsample.pool.rnn1.weight_hh"],
        trained.state_dict()["conv_stem.downsample.pool.rnn1.weight_hh"],
    )


def test_cli_model_config_with_overrides_and_errors(tmp_path, capsys):
    net, shape = load_net(
        "rnnpool/mobilenetv2_rnnpool", ["data=cluttered_digits", "model.net.downsample=renet"]
    )
    assert shape == (1, 48, 48) and type(net.conv_stem.downsample).__name__ == "ReNetLayer"
    _, default_shape = load_net("rnnpool/mobilenetv2_rnnpool")
    assert default_shape == (3, 224, 224)  # data=imagenet10 unless an override names the data
    assert main(["onnx", "rnnpool/no_such_model", "--out", str(tmp_path / "x.onnx")]) == 2
    assert "conf/model" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="--out"):
        export_onnx(net, shape, tmp_path / "model.pt")
    with pytest.raises(ConfigError, match="overrides"):  # a run exports as it was trained
        load_net(tmp_path, ["data=cifar10"])
