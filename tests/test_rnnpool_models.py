"""RNNPool architectures, Table-2 downsamplers, ReNet and the RNNPool tables: exact paper counts and shapes."""

from __future__ import annotations

import json

import pytest
import timm
import torch
from torch import nn

from compresslab.measure.madds import count_madds
from compresslab.measure.peak_ram import analytic_peak_ram
from compresslab.measure.report import count_params
from compresslab.nets import rnnpool_backbones as backbones
from compresslab.rnnpool.blocks import (
    DOWNSAMPLERS,
    LastLayerRNNPool,
    PatchwiseStem,
    WholeMapStem,
    make_downsampler,
)
from compresslab.rnnpool.counts import rnnpool_patch_madds, schedule_madds
from compresslab.rnnpool.operator import RNNPoolLayer
from compresslab.rnnpool.renet import ReNetClassifier, ReNetLayer
from compresslab.train import train
from compresslab.utils.errors import ConfigError

# Standard peak RAM in fp32 values (rnnpool.md §5 worked values; the paper prints MiB at 2 digits).
PEAK_VALUES = {
    ("mobilenetv2", "none"): 112 * 112 * (32 + 16),  # 2.297 → "2.29"
    ("efficientnet_b0", "none"): 112 * 112 * (32 + 16),  # "2.29"
    ("resnet18", "none"): 112 * 112 * 64,  # "3.06"
    ("densenet121", "none"): 112 * 112 * 64,  # "3.06"
    ("googlenet", "none"): 112 * 112 * 64,  # "3.06"
    ("mobilenetv2", "rnnpool"): 28 * 28 * 64 + 14 * 14 * 64,  # "0.24"
    ("efficientnet_b0", "rnnpool"): 28 * 28 * 64 + 14 * 14 * 80,  # "0.25"
    ("resnet18", "rnnpool"): max(28 * 28 * 128, 14 * 14 * 256),  # "0.38"
    ("densenet121", "rnnpool"): 14 * 14 * 1024,  # D3 output, "0.77"
    ("googlenet", "rnnpool"): 14 * 14 * 528 + 14 * 14 * (128 + 128 + 256),  # inception 4e, "0.78"
}
PAPER_MB = {
    ("mobilenetv2", "none"): 2.29,
    ("efficientnet_b0", "none"): 2.29,
    ("resnet18", "none"): 3.06,
    ("densenet121", "none"): 3.06,
    ("googlenet", "none"): 3.06,
    ("mobilenetv2", "rnnpool"): 0.24,
    ("efficientnet_b0", "rnnpool"): 0.25,
    ("resnet18", "rnnpool"): 0.38,
    ("densenet121", "rnnpool"): 0.77,
    ("googlenet", "rnnpool"): 0.78,
}


@pytest.mark.parametrize(("builder", "downsample"), list(PEAK_VALUES))
def test_table1_standard_peak_ram_is_the_papers(builder, downsample):
    net = getattr(backbones, builder)(downsample=downsample)
    peak = analytic_peak_ram(net, torch.zeros(1, 3, 224, 224))
    assert peak.peak_values == PEAK_VALUES[(builder, downsample)]
    # the paper's two printed digits (MobileNetV2's 2.297 MiB is printed truncated as 2.29)
    assert abs(peak.peak_mib - PAPER_MB[(builder, downsample)]) < 0.01


@pytest.mark.parametrize(
    ("kwargs", "values"),
    [
        ({"hidden": 8}, 28 * 28 * 32 + 14 * 14 * 64),  # Table 16 (d): 0.14 MB
        ({"hidden": 32}, 28 * 28 * 128 + 14 * 14 * 64),  # (e): 0.43 MB
        ({"stride": 8, "patch_size": 12, "first_stage_stride": 1}, 14 * 14 * (96 + 96)),  # (f): 0.14 MB
        ({"second_rnnpool": True, "first_stage_stride": 1}, 28 * 28 * 64),  # (g): 0.19 MB
    ],
)
def test_table16_peak_ram(kwargs, values):
    net = backbones.mobilenetv2(downsample="rnnpool", **kwargs)
    assert analytic_peak_ram(net, torch.zeros(1, 3, 224, 224)).peak_values == values


@pytest.mark.parametrize(
    ("ours", "timm_name"), [("mobilenetv2", "mobilenetv2_100"), ("efficientnet_b0", "efficientnet_b0")]
)
def test_base_builders_equal_timm(ours, timm_name):
    a = getattr(backbones, ours)(num_classes=10)
    b = timm.create_model(timm_name, num_classes=10)
    assert count_params(a) == count_params(b)
    assert [tuple(p.shape) for p in a.parameters()] == [tuple(p.shape) for p in b.parameters()]


def test_mobilenetv2_rnnpool_layout_is_table10():
    net = backbones.mobilenetv2(downsample="rnnpool").eval()
    stem = net.conv_stem
    assert stem.downsample.patch_size == (6, 6) and stem.downsample.stride == (4, 4)
    assert (stem.downsample.pool.rnn1.hidden_size, stem.downsample.pool.rnn2.hidden_size) == (16, 16)
    with torch.no_grad():
        assert stem(torch.zeros(1, 3, 224, 224)).shape == (1, 64, 28, 28)  # 112²×32 → 28²×64
    # the kept stages are Table 10's: c64 ×4 (s2), c96 ×3, c160 ×3 (s2), c320 ×1
    assert [len(s) for s in net.blocks] == [4, 3, 3, 1]
    assert [s[-1].conv_pwl.out_channels for s in net.blocks] == [64, 96, 160, 320]


@pytest.mark.parametrize("kind", DOWNSAMPLERS)
@pytest.mark.parametrize(("c_in", "c_out", "patch"), [(32, 64, 6), (64, 192, 8)])
def test_downsamplers_are_drop_in(kind, c_in, c_out, patch):
    block = make_downsampler(kind, c_in, c_out, patch_size=patch, stride=4)
    with torch.no_grad():
        y = block(torch.randn(1, c_in, 112, 112))
    assert y.shape == (1, c_out, 28, 28)


def test_strided_conv_madds_match_the_papers_pooling_gap():
    """Strided conv (6×6, stride 4, 32→64) costs 28²·64·32·36 = 57.8M: Table 2's 0.258G − 0.200G."""
    conv = make_downsampler("strided_conv", 32, 64, 6, 4)
    assert conv.op.weight.numel() * 28 * 28 == 57_802_752


def test_downsampler_bad_widths_name_the_argument():
    with pytest.raises(ConfigError, match="out_channels.*multiple of 4"):
        make_downsampler("rnnpool", 32, 66)
    with pytest.raises(ConfigError, match="out_channels.*even"):
        make_downsampler("renet", 32, 63)
    with pytest.raises(ConfigError, match="downsample"):
        backbones.mobilenetv2(downsample="bilinear")
    with pytest.raises(ConfigError, match="hidden"):
        backbones.resnet18(downsample="rnnpool", hidden=16)


def test_last_layer_rnnpool_keeps_the_width():
    net = backbones.mobilenetv2(last_layer_rnnpool=True)
    assert isinstance(net.global_pool, LastLayerRNNPool)
    assert net.global_pool.out_channels == 1280  # h = 1280/4
    # RNNPool(k=1280, h1=h2=320) parameters: (k·h + h² + 2h + 2) + (h·h + h² + 2h + 2)
    h = 320
    expected = (1280 * h + h * h + 2 * h + 2) + (h * h + h * h + 2 * h + 2)
    assert sum(p.numel() for p in net.global_pool.parameters()) == expected


# ------------------------------------------------------------------------------------ MAdds per schedule
def test_mobilenetv2_rnnpool_madds_whole_map_and_patch_by_patch():
    net = backbones.mobilenetv2(downsample="rnnpool").eval()
    x = torch.zeros(1, 3, 224, 224)
    counts = schedule_madds(net, x)
    assert counts.whole_map == count_madds(net, x).total == 236_547_968
    # stem 3×3×3→32: 864 MAdds per 112² pixel, recomputed for 27² windows of 6×6 (26,244 pixels vs 12,544);
    # RNNPool per 6×6×32 patch: 36·32·16 + 2·36·256 + 12·256 + 24·256 = 46,080 vs 22,264,832 on the whole map
    stem_extra = 864 * (27 * 27 * 36 - 112 * 112)
    rnnpool_extra = 27 * 27 * 46_080 - 22_264_832
    assert 36 * 32 * 16 + 2 * 36 * 256 + 12 * 256 + 24 * 256 == 46_080
    assert counts.patch_by_patch - counts.whole_map == stem_extra + rnnpool_extra == 23_164_288


@pytest.mark.parametrize("cell", ["fastgrnn", "gru", "lstm"])
@pytest.mark.parametrize(("patch", "stride", "size"), [(6, 4, 22), ((3, 5), (2, 3), (10, 13))])
def test_rnnpool_patch_madds_equals_the_operator_on_cut_patches(cell, patch, stride, size):
    """The closed form is what our RNNPool executes on the batch of cut patches (each patch on its own)."""
    layer = RNNPoolLayer(5, 6, 4, patch, stride, cell=cell, pad_output=False)
    height, width = (size, size) if isinstance(size, int) else size
    x = torch.randn(1, 5, height, width)
    (r, c), (sr, sc) = layer.patch_size, layer.stride
    patches = x.unfold(2, r, sr).unfold(3, c, sc).permute(0, 2, 3, 1, 4, 5).reshape(-1, 5, r, c)
    assert rnnpool_patch_madds(layer, height, width) == count_madds(layer.pool, patches).total
    # the whole-map layer shares work between overlapping patches, so it never counts more
    assert count_madds(layer, x).total <= rnnpool_patch_madds(layer, height, width)


def test_pooling_rows_recompute_the_stem_per_window_and_base_rows_are_equal():
    x = torch.zeros(1, 3, 224, 224)
    base = schedule_madds(backbones.mobilenetv2().eval(), x)
    assert base.patch_by_patch == base.whole_map  # no patch-wise block
    avg = schedule_madds(backbones.mobilenetv2(downsample="avgpool").eval(), x)
    assert avg.patch_by_patch - avg.whole_map == 864 * (27 * 27 * 36 - 112 * 112)  # the stem only


def test_renet_keeps_the_whole_stem_map_and_its_own_peak_ram_rule():
    net = backbones.mobilenetv2(downsample="renet").eval()
    assert isinstance(net.conv_stem, WholeMapStem) and not isinstance(net.conv_stem, PatchwiseStem)
    x = torch.zeros(1, 3, 224, 224)
    ram = analytic_peak_ram(net, x)
    # ReNet's rule: max(|in| + |out|, 2·|out|) with |in| the stem's 112²×32 map (not the paper's 0.24 MB)
    assert ram.peak_values == 112 * 112 * 32 + 28 * 28 * 64 and ram.peak_unit == "conv_stem.downsample"
    counts = schedule_madds(net, x)
    assert counts.patch_by_patch == counts.whole_map
    # the checkpoint keys are those of the patch-wise stems
    assert any(k.startswith("conv_stem.stem.") for k in net.state_dict())


def test_googlenet_aux_logits_match_the_papers_parameter_count():
    plain, aux = backbones.googlenet(), backbones.googlenet(aux_logits=True)
    extra = count_params(aux)["no_norm"] - count_params(plain)["no_norm"]
    assert extra == pytest.approx(4.35e6, abs=0.01e6)  # two heads: 1×1 conv 128, fc 2048→1024, fc 1024→10
    assert round(count_params(aux)["no_norm"] / 1e6, 3) == 9.946  # the paper's 9.96M
    aux.train()
    out = aux(torch.randn(2, 3, 224, 224))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 10)  # the main logits, in training too


# ------------------------------------------------------------------------------------------------- ReNet
def test_renet_layer_shapes_and_params():
    layer = ReNetLayer(32, 32, patch_size=4)
    assert layer(torch.randn(2, 32, 112, 112)).shape == (
        2,
        64,
        28,
        28,
    )  # the paper's baseline: 112²×32 → 28²×64
    gru = lambda i, d: 2 * 3 * (i * d + d * d + 2 * d)  # noqa: E731 - bidirectional nn.GRU parameters
    assert sum(p.numel() for p in layer.parameters()) == gru(32 * 16, 32) + gru(64, 32)


def test_renet_every_output_sees_the_whole_map():
    layer = ReNetLayer(3, 4, patch_size=2).double()
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    layer(x)[0, :, 0, 0].sum().backward()  # top-left output location
    assert (x.grad.abs().sum(dim=1) > 0).all()  # depends on every input pixel


def test_renet_equals_per_column_then_per_row_sweeps():
    torch.manual_seed(0)
    layer = ReNetLayer(2, 3, patch_size=2).double()
    x = torch.randn(2, 2, 6, 4, dtype=torch.float64)
    out = layer(x)
    patches = nn.functional.pixel_unshuffle(x, 2)  # [B, 8, 3, 2]
    b, _, n_i, n_j = patches.shape
    v = torch.stack(
        [layer.vertical(patches[:, :, :, j].transpose(1, 2))[0] for j in range(n_j)], dim=2
    )  # [B,I,J,2d]
    rows = torch.stack([layer.horizontal(v[:, i])[0] for i in range(n_i)], dim=1)  # [B, I, J, 2d]
    torch.testing.assert_close(out, rows.permute(0, 3, 1, 2), rtol=0, atol=1e-12)


def test_renet_rejects_a_map_the_patch_does_not_divide():
    with pytest.raises(ConfigError, match="patch_size"):
        ReNetLayer(3, 4, patch_size=3)(torch.randn(1, 3, 8, 8))
    with pytest.raises(ConfigError, match="image_size"):
        ReNetClassifier(image_size=30, hidden_sizes=(8, 8), fc_sizes=())


def test_renet_classifier_forward():
    net = ReNetClassifier(in_chans=1, num_classes=10, image_size=16, hidden_sizes=(8, 6), fc_sizes=(32,))
    assert net(torch.randn(3, 1, 16, 16)).shape == (3, 10)


# ------------------------------------------------------------------------------------------------- training
TRAIN_MODELS = [
    "rnnpool/mobilenetv2",
    "rnnpool/mobilenetv2_rnnpool",
    "rnnpool/efficientnet_b0",
    "rnnpool/efficientnet_b0_rnnpool",
    "rnnpool/resnet18",
    "rnnpool/resnet18_rnnpool",
    "rnnpool/densenet121",
    "rnnpool/densenet121_rnnpool",
    "rnnpool/googlenet",
    "rnnpool/googlenet_rnnpool",
    "rnnpool/mobilenetv2_035_vww_rnnpool",
]
TABLE2_VARIANTS = [
    (model, kind, last)
    for model in ("rnnpool/mobilenetv2_rnnpool", "rnnpool/densenet121_rnnpool")
    for kind, last in [
        ("avgpool", False),
        ("maxpool", False),
        ("strided_conv", False),
        ("renet", False),
        ("none", True),
        ("rnnpool", True),
    ]
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "downsample", "last"),
    [(m, None, None) for m in TRAIN_MODELS] + TABLE2_VARIANTS,
)
def test_every_table_model_runs_fast_dev_run(train_cfg, model, downsample, last):
    overrides = [f"model={model}", "data=cluttered_digits", "trainer=cpu", "+trainer.fast_dev_run=true"]
    overrides += ["data.batch_size=4", "measure.enabled=false"]
    if downsample is not None:
        overrides += [
            f"model.net.downsample={downsample}",
            f"model.net.last_layer_rnnpool={str(last).lower()}",
        ]
    metrics, _ = train(train_cfg(overrides))
    assert 0.0 <= metrics["test/acc"] <= 1.0 and metrics["test/loss"] > 0


@pytest.mark.slow
def test_renet_classifier_trains_from_config(train_cfg):
    cfg = train_cfg(
        [
            "experiment=rnnpool/renet_cifar10",
            "data=digits",
            "trainer=cpu",
            "+trainer.fast_dev_run=true",
            "model.net.hidden_sizes=[8,8]",
            "model.net.fc_sizes=[16]",
            "measure.enabled=false",
        ]
    )
    metrics, _ = train(cfg)
    assert metrics["test/loss"] > 0


# ------------------------------------------------------------------------------------------------- tables
def test_table2_reads_reduced_runs_and_names_missing_commands(tmp_path, monkeypatch):
    from compresslab.tables import rnnpool as tables

    monkeypatch.setattr(tables, "measure", lambda *a, **k: tables.Counts(1.0, 0.1, 0.2, "x"))
    for seed, acc in [(1, 0.50), (2, 0.60), (3, 0.70)]:
        run = tmp_path / f"run{seed}"
        run.mkdir()
        config = {
            "paper": {"table": "rnnpool_table2", "scale": "reduced"},
            "model": {"net": {"downsample": "rnnpool", "last_layer_rnnpool": False}},
        }
        (run / "metrics.json").write_text(json.dumps({"metrics": {"test/acc": acc}, "config": config}))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metrics.json").write_text("{not json")  # a half-written file never breaks a table
    table = tables.table2(tmp_path)
    rows = {row[0]: row for row in table.rows}
    assert rows["RNNPoolLayer"][-1] == "60.0 ± 10.0 (n=3)"
    assert rows["ReNet"][-1] == "missing: `bash scripts/reproduce_rnnpool_table2.sh`"
    paths = table.write(tmp_path / "results")
    main_table = paths[0].read_text().split("\n\n")[2]  # title, source, then the table (verdicts follow)
    assert main_table.count("\n| ") == len(tables.TABLE2_ROWS)  # header, separator, then one line per row
    assert paths[1].read_text().splitlines()[0].startswith("Method,")


def test_table_cli_lists_and_rejects_unknown(capsys):
    from compresslab.tables.cli import main

    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "rnnpool_table1" in out and "rnnpool_table16" in out
    assert main(["no_such_table"]) == 2
    assert "compresslab-table --list" in capsys.readouterr().err
