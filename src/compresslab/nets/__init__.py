"""Reusable networks: plain nn.Modules and factories, no Lightning (LightningModules are in compresslab.models).

* :mod:`compresslab.nets.small` — ``ConvNet`` (VGG-style, images) and ``MLP`` (tabular) for CPU-scale runs.
* :mod:`compresslab.nets.cifar` — ``CifarResNet``, ``WideResNet``, ``cifar_mobilenetv2`` and the HPM-KD family
  factory ``build_net``.
* :mod:`compresslab.nets.rnnpool_backbones` — the ImageNet-style table models of RNNPool (``mobilenetv2``,
  ``efficientnet_b0``, ``resnet18``, ``densenet121``, ``googlenet``, ``mobilenetv2_035_vww``) with RNNPool /
  ReNet / Table-2 downsampling.

Submodules are imported on use (the last two import timm).
"""
