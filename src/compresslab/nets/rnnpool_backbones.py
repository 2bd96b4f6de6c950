"""RNNPool architectures (paper Sec. 4, App. F, Tables 9–10) on ImageNet-style timm / torchvision backbones.

The recipe of the paper: keep the first convolution, replace the memory-heavy early stack after it with one
downsampling block of stride 4 (the RNNPoolLayer, or a Table-2 baseline), keep the rest of the network.
``downsample="none"`` is the unmodified base network. Hidden/patch sizes default to Table 9:

=====================  ========  =====  =============================  ======================================
model                  h1 = h2   patch  map after the block             replaced span
=====================  ========  =====  =============================  ======================================
MobileNetV2            16        6      112²×32 → 28²×64               bottlenecks c16, c24, c32 (Table 10)
EfficientNet-B0        16        6      112²×32 → 28²×64               stages c16, c24, c40
ResNet18               32        8      112²×64 → 28²×128              maxpool, layer1, layer2
DenseNet121            48        8      112²×64 → 28²×192              P1, D1, T1, D2 (Fig. 2); T2 takes 192
GoogLeNet              32        8      112²×64 → 28²×128              maxpool1 … inception3b; 4a takes 128
MobileNetV2-0.35 VWW   8         6      112²×8 → 28²×32                as MobileNetV2 (EdgeML VWW example)
=====================  ========  =====  =============================  ======================================

The stem convolution and the downsampler form a :class:`~compresslab.rnnpool.blocks.PatchwiseStem`, so the
analytic peak RAM follows the paper (the stem's output is computed patch by patch); ReNet, whose column sweep
reads whole columns, forms a :class:`~compresslab.rnnpool.blocks.WholeMapStem` instead (ReNet's own peak-RAM
rule applies). :mod:`compresslab.rnnpool.counts` gives the MAdds of both schedules. ``last_layer_rnnpool``
replaces the final global average pool with RNNPool (h = C/4, App. F.1.2).
"""

from __future__ import annotations

from functools import partial

from timm.layers import BatchNormAct2d, create_conv2d, get_act_layer
from timm.models import create_model
from timm.models._efficientnet_builder import decode_arch_def, round_channels
from timm.models.densenet import DenseTransition
from timm.models.efficientnet import EfficientNet
from torch import nn

from compresslab.rnnpool.blocks import DOWNSAMPLERS, LastLayerRNNPool, make_downsampler, stem_with
from compresslab.rnnpool.operator import RNNPoolLayer
from compresslab.utils.errors import ConfigError

# timm's stage strings (timm.models.efficientnet._gen_mobilenet_v2 / _gen_efficientnet)
MOBILENETV2_ARCH = [
    ["ds_r1_k3_s1_c16"],
    ["ir_r2_k3_s2_e6_c24"],
    ["ir_r3_k3_s2_e6_c32"],
    ["ir_r4_k3_s2_e6_c64"],
    ["ir_r3_k3_s1_e6_c96"],
    ["ir_r3_k3_s2_e6_c160"],
    ["ir_r1_k3_s1_e6_c320"],
]
EFFICIENTNET_B0_ARCH = [
    ["ds_r1_k3_s1_e1_c16_se0.25"],
    ["ir_r2_k3_s2_e6_c24_se0.25"],
    ["ir_r2_k5_s2_e6_c40_se0.25"],
    ["ir_r3_k3_s2_e6_c80_se0.25"],
    ["ir_r3_k5_s1_e6_c112_se0.25"],
    ["ir_r4_k5_s2_e6_c192_se0.25"],
    ["ir_r1_k3_s1_e6_c320_se0.25"],
]


def _set_stride(stage: list[str], stride: int) -> list[str]:
    """Set the stride of a stage's first block string (``..._s2_...`` → ``..._s{stride}_...``)."""
    head = "_".join(
        f"s{stride}" if part.startswith("s") and part[1:].isdigit() else part for part in stage[0].split("_")
    )
    return [head, *stage[1:]]


def _efficientnet_family(
    arch: list[list[str]],
    *,
    act: str,
    num_classes: int,
    in_chans: int,
    width_mult: float,
    stem_channels: int | None,
    num_features: int | None,
    downsample: str,
    keep_from: int,
    hidden: int,
    hidden1: int | None,
    patch_size: int,
    stride: int,
    cell: str,
    first_stage_stride: int,
    last_layer_rnnpool: bool,
    drop_rate: float,
    second_rnnpool: bool = False,
) -> EfficientNet:
    _check_kind(downsample)
    round_chs = partial(round_channels, multiplier=width_mult)
    act_layer = get_act_layer(act)
    stem = stem_channels or round_chs(32)
    features = num_features or max(1280, round_chs(1280))
    common = dict(
        num_classes=num_classes,
        in_chans=in_chans,
        num_features=features,
        round_chs_fn=round_chs,
        act_layer=act_layer,
        norm_layer=nn.BatchNorm2d,
        drop_rate=drop_rate,
    )
    if downsample == "none":
        model = EfficientNet(block_args=decode_arch_def(arch), stem_size=stem, fix_stem=True, **common)
    else:
        down_channels = 4 * hidden  # = the RNNPoolLayer's 4·h2; every Table-2 block outputs the same width
        kept = [list(s) for s in arch[keep_from:]]
        kept[0] = _set_stride(kept[0], first_stage_stride)
        model = EfficientNet(
            block_args=decode_arch_def(kept), stem_size=down_channels, fix_stem=True, **common
        )
        stem_conv = nn.Sequential(
            create_conv2d(in_chans, stem, 3, stride=2), BatchNormAct2d(stem, act_layer=act_layer)
        )
        block = make_downsampler(downsample, stem, down_channels, patch_size, stride, hidden1, cell)
        model.conv_stem = stem_with(stem_conv, block)  # model.bn1 then normalises the block's output
        if second_rnnpool:  # Table 16 (g): a second RNNPoolLayer, patch 4, stride 2, on the 1/8 map
            second = RNNPoolLayer(down_channels, hidden, hidden, patch_size=4, stride=2, cell=cell)
            model.conv_stem = nn.Sequential(model.conv_stem, second)
    if last_layer_rnnpool:
        model.global_pool = LastLayerRNNPool(model.num_features, cell=cell)
    return model


def mobilenetv2(
    num_classes: int = 10,
    in_chans: int = 3,
    downsample: str = "none",
    last_layer_rnnpool: bool = False,
    hidden: int = 16,
    hidden1: int | None = None,
    patch_size: int = 6,
    stride: int = 4,
    cell: str = "fastgrnn",
    width_mult: float = 1.0,
    stem_channels: int | None = None,
    num_features: int | None = None,
    first_stage_stride: int = 2,
    drop_rate: float = 0.0,
    second_rnnpool: bool = False,
) -> EfficientNet:
    """MobileNetV2 (timm's blocks) and MobileNetV2-RNNPool (Table 10) with every Table-2 downsampling row.

    ``downsample``: ``none`` (base), ``rnnpool``, ``avgpool``, ``maxpool``, ``strided_conv``, ``renet``;
    it replaces bottlenecks c16–c32 and outputs 4·``hidden`` channels at 1/8 of the input side.
    ``first_stage_stride=1`` keeps the resolution after a stride-8 RNNPool (Table 16 row f);
    ``second_rnnpool`` adds an RNNPoolLayer (patch 4, stride 2) after the first (row g; use it with
    ``first_stage_stride=1``).
    """
    return _efficientnet_family(
        MOBILENETV2_ARCH, act="relu6", keep_from=3, second_rnnpool=second_rnnpool, **_kw(locals())
    )


def efficientnet_b0(
    num_classes: int = 10,
    in_chans: int = 3,
    downsample: str = "none",
    last_layer_rnnpool: bool = False,
    hidden: int = 16,
    hidden1: int | None = None,
    patch_size: int = 6,
    stride: int = 4,
    cell: str = "fastgrnn",
    width_mult: float = 1.0,
    stem_channels: int | None = None,
    num_features: int | None = None,
    first_stage_stride: int = 2,
    drop_rate: float = 0.2,
) -> EfficientNet:
    """EfficientNet-B0 and EfficientNet-B0-RNNPool (stages c16–c40 replaced; Table 9: h 16, patch 6)."""
    return _efficientnet_family(EFFICIENTNET_B0_ARCH, act="swish", keep_from=3, **_kw(locals()))


def mobilenetv2_035_vww(
    num_classes: int = 2,
    in_chans: int = 3,
    downsample: str = "rnnpool",
    last_layer_rnnpool: bool = False,
    hidden: int = 8,
    patch_size: int = 6,
    stride: int = 4,
    cell: str = "fastgrnn",
) -> EfficientNet:
    """The Visual-Wake-Words MobileNetV2-0.35×-RNNPool (EdgeML example: stem 8, RNNPool(6,6,8,8,8), last 320)."""
    return mobilenetv2(
        num_classes=num_classes,
        in_chans=in_chans,
        downsample=downsample,
        last_layer_rnnpool=last_layer_rnnpool,
        hidden=hidden,
        patch_size=patch_size,
        stride=stride,
        cell=cell,
        width_mult=0.35,
        stem_channels=8,
        num_features=320,
    )


def _kw(local_vars: dict) -> dict:
    keys = (
        "num_classes in_chans downsample last_layer_rnnpool hidden hidden1 patch_size stride cell width_mult "
        "stem_channels num_features first_stage_stride drop_rate"
    ).split()
    return {k: local_vars[k] for k in keys}


def _check_kind(downsample: str) -> None:
    allowed = ("none", *DOWNSAMPLERS)
    if downsample not in allowed:
        raise ConfigError(
            "model.net.downsample", downsample, f"one of {list(allowed)}", "pick a Table-2 row."
        )


def resnet18(
    num_classes: int = 10,
    in_chans: int = 3,
    downsample: str = "none",
    last_layer_rnnpool: bool = False,
    hidden: int = 32,
    patch_size: int = 8,
    stride: int = 4,
    cell: str = "fastgrnn",
) -> nn.Module:
    """timm ResNet18; with a downsampler, maxpool + layer1 + layer2 become one block 112²×64 → 28²×128."""
    _check_kind(downsample)
    if downsample != "none" and 4 * hidden != 128:
        raise ConfigError(
            "model.net.hidden", hidden, "32 (layer3 takes 128 = 4·h channels)", "set hidden=32."
        )
    model = create_model("resnet18", num_classes=num_classes, in_chans=in_chans)
    if downsample != "none":
        stem = nn.Sequential(model.conv1, model.bn1, model.act1)
        block = make_downsampler(downsample, 64, 4 * hidden, patch_size, stride, None, cell)
        model.conv1 = stem_with(stem, block)
        model.bn1 = nn.BatchNorm2d(4 * hidden)
        model.maxpool, model.layer1, model.layer2 = nn.Identity(), nn.Identity(), nn.Identity()
    if last_layer_rnnpool:
        model.global_pool = LastLayerRNNPool(model.num_features, cell=cell)
    return model


def densenet121(
    num_classes: int = 10,
    in_chans: int = 3,
    downsample: str = "none",
    last_layer_rnnpool: bool = False,
    hidden: int = 48,
    patch_size: int = 8,
    stride: int = 4,
    cell: str = "fastgrnn",
) -> nn.Module:
    """timm DenseNet121; with a downsampler, P1 D1 T1 D2 become one block 112²×64 → 28²×4h (Fig. 2).

    Transition T2 then reduces 4h (192 for h = 48, as Fig. 2's labels) to the 256 channels D3 expects.
    """
    _check_kind(downsample)
    model = create_model("densenet121", num_classes=num_classes, in_chans=in_chans)
    f = model.features
    if downsample != "none":
        stem = nn.Sequential(f.conv0, f.norm0)
        f.conv0 = stem_with(
            stem, make_downsampler(downsample, 64, 4 * hidden, patch_size, stride, None, cell)
        )
        f.norm0 = BatchNormAct2d(4 * hidden)
        f.pool0, f.denseblock1, f.transition1, f.denseblock2 = (nn.Identity() for _ in range(4))
        f.transition2 = DenseTransition(4 * hidden, 256)
    if last_layer_rnnpool:
        model.global_pool = LastLayerRNNPool(model.num_features, cell=cell)
    return model


def googlenet(
    num_classes: int = 10,
    in_chans: int = 3,
    downsample: str = "none",
    last_layer_rnnpool: bool = False,
    hidden: int = 32,
    patch_size: int = 8,
    stride: int = 4,
    cell: str = "fastgrnn",
    aux_logits: bool = False,
) -> nn.Module:
    """torchvision GoogLeNet (timm has none); with a downsampler, maxpool1 … inception3b become one block
    112²×64 → 28²×4h and inception4a takes 4h channels (peak then at inception 4e, App. E.2.2).

    ``aux_logits=True`` builds torchvision's two auxiliary classifiers (after inception 4a and 4d; 4.35M
    parameters with 10 classes), which the paper's 9.96M parameter count includes (9.946M with them, 5.6M
    without). They only run in training, and this codebase's classifier trains on the main logits: the heads
    are then counted but not trained (forward returns the main logits only), so keep the default for training.
    """
    from torchvision.models import googlenet as tv_googlenet
    from torchvision.models.googlenet import BasicConv2d, Inception

    _check_kind(downsample)
    model = tv_googlenet(weights=None, num_classes=num_classes, aux_logits=aux_logits, init_weights=True)
    if aux_logits:
        model.eager_outputs = _main_logits  # type: ignore[method-assign]  # training returns the logits too
    if in_chans != 3:
        model.conv1 = BasicConv2d(in_chans, 64, kernel_size=7, stride=2, padding=3)
    model.transform_input = False
    if downsample != "none":
        block = make_downsampler(downsample, 64, 4 * hidden, patch_size, stride, None, cell)
        model.conv1 = stem_with(model.conv1, block)
        for name in ("maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b"):
            setattr(model, name, nn.Identity())
        model.inception4a = Inception(4 * hidden, 192, 96, 208, 16, 48, 64)
    if last_layer_rnnpool:
        model.avgpool = nn.Sequential(LastLayerRNNPool(1024, cell=cell), nn.Unflatten(1, (1024, 1, 1)))
    return model


def _main_logits(x, aux2, aux1):  # noqa: ANN001, ANN202 - torchvision's GoogLeNet.eager_outputs signature
    """GoogLeNet's output with aux heads built: the main logits in training and eval alike."""
    return x
