"""ImageNet-10 of the RNNPool paper (ImageFolder layout restricted to its 10 wnids), or all of ImageNet-1k."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch
from torchvision.transforms import v2

from compresslab.data.base import DatasetSource, Splits
from compresslab.utils.errors import ConfigError, DataError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: The ten classes of RNNPool App. A.1 / Table 6, in the paper's order (label i = row i+1).
IMAGENET10_WNIDS: tuple[str, ...] = (
    "n02690373",  # airliner
    "n04285008",  # sports car
    "n01560419",  # bulbul
    "n02124075",  # Egyptian cat
    "n02430045",  # deer (from ImageNet-22K)
    "n02099601",  # golden retriever
    "n01641577",  # bullfrog
    "n03538406",  # horse cart
    "n03673027",  # ocean liner
    "n04467665",  # trailer truck
)
_IMG_EXT = (".jpeg", ".jpg", ".png")


class ImageNet10(DatasetSource):
    """ImageNet-10 of the RNNPool paper (App. A.1): ImageFolder layout restricted to its 10 wnids.

    Layout: ``root/train/<wnid>/*.JPEG`` and ``root/val/<wnid>/*.JPEG`` (1300 / 50 images per class in the
    paper). Other wnid folders are ignored. Transforms follow App. G: RandomResizedCrop(224, scale 0.08–1,
    ratio 3/4–4/3) + horizontal flip for training; resize to 256 and centre-crop 224 for evaluation. The paper
    reports the best top-1 on ``val``, so ``val`` serves as both validation and test split.

    Args:
        root: the folder holding ``train/`` and ``val/``.
        image_size: crop size (224 in the paper).
        resize_size: evaluation resize before the centre crop (256 in the paper).
        val_resize: ``square`` resizes to resize_size × resize_size as the paper states; ``shorter`` resizes the
            shorter side (the common torchvision recipe).
        scale: RandomResizedCrop scale range.
        augment: ``basic`` (App. G: RandomResizedCrop + flip) or ``deit`` (timm's DeiT recipe: RandAugment
            rand-m9-mstd0.5-inc1, bicubic, random erasing 0.25; mixup/cutmix are batch-level, in the module).
        classes: ``imagenet10`` (the 10 wnids) or ``imagenet1k`` (every wnid folder of ``train/``, which must be
            the 1,000 ILSVRC-2012 classes; the same reader then serves full ImageNet-1K).
    """

    name = "imagenet10"
    source_hint = (
        "the ILSVRC-2012 train/val images of the 9 ImageNet-1K wnids plus n02430045 (deer) from "
        "ImageNet-22K (image-net.org), arranged as train/<wnid>/*.JPEG and val/<wnid>/*.JPEG"
    )

    def __init__(
        self,
        root: str,
        image_size: int = 224,
        resize_size: int = 256,
        val_resize: Literal["square", "shorter"] = "square",
        scale: Sequence[float] = (0.08, 1.0),
        classes: Literal["imagenet10", "imagenet1k"] = "imagenet10",
        augment: Literal["basic", "deit"] = "basic",
    ) -> None:
        if augment not in ("basic", "deit"):
            raise ConfigError("data.dataset.augment", augment, "'basic' or 'deit'", "set augment=basic.")
        self.augment = augment
        if classes not in ("imagenet10", "imagenet1k"):
            raise ConfigError(
                "data.dataset.classes", classes, "'imagenet10' or 'imagenet1k'", "set classes=imagenet10."
            )
        self.classes = classes
        if resize_size < image_size:
            raise ConfigError(
                "data.dataset.resize_size",
                resize_size,
                f">= image_size ({image_size})",
                "set resize_size = image_size * 256 / 224.",
            )
        if val_resize not in ("square", "shorter"):
            raise ConfigError(
                "data.dataset.val_resize", val_resize, "'square' or 'shorter'", "set val_resize=square."
            )
        self.root, self.image_size, self.resize_size = Path(root), image_size, resize_size
        self.val_resize, self.scale = val_resize, tuple(scale)

    @property
    def num_classes(self) -> int:
        return len(IMAGENET10_WNIDS) if self.classes == "imagenet10" else 1000

    def wnids(self) -> list[str]:
        """The class folders in label order (ImageNet-1K: sorted wnids, as torchvision's ImageFolder)."""
        if self.classes == "imagenet10":
            return list(IMAGENET10_WNIDS)
        train = self.root / "train"
        found = sorted(p.name for p in train.iterdir() if p.is_dir()) if train.is_dir() else []
        if len(found) != 1000:
            raise DataError(
                train, f"{len(found)} class folders", "the 1,000 ILSVRC-2012 wnid folders", self.source_hint
            )
        return found

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (3, self.image_size, self.image_size)

    def check(self) -> None:
        for split in ("train", "val"):
            d = self.root / split
            if not d.is_dir():
                raise DataError(
                    d, "folder does not exist", f"{self.root}/{{train,val}}/<wnid>/*.JPEG", self.source_hint
                )
            missing = [
                w
                for w in self.wnids()
                if not (d / w).is_dir() or not any(p.suffix.lower() in _IMG_EXT for p in (d / w).iterdir())
            ]
            if missing:
                raise DataError(
                    d,
                    f"missing or empty class folders: {missing[:20]}",
                    f"one folder with images for each of the {self.num_classes} wnids",
                    self.source_hint,
                )

    def transforms(self, train: bool) -> v2.Compose:
        norm = [
            v2.ToImage(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
        if train and self.augment == "deit":
            from timm.data import create_transform

            return create_transform(
                self.image_size,
                is_training=True,
                scale=self.scale,
                auto_augment="rand-m9-mstd0.5-inc1",
                interpolation="bicubic",
                re_prob=0.25,
                re_mode="pixel",
                mean=IMAGENET_MEAN,
                std=IMAGENET_STD,
            )
        if train:
            return v2.Compose(
                [
                    v2.RandomResizedCrop(self.image_size, scale=self.scale, ratio=(3 / 4, 4 / 3)),
                    v2.RandomHorizontalFlip(),
                    *norm,
                ]
            )
        size = (self.resize_size, self.resize_size) if self.val_resize == "square" else self.resize_size
        return v2.Compose([v2.Resize(size), v2.CenterCrop(self.image_size), *norm])

    def load(self) -> Splits:
        from torchvision.datasets import ImageFolder

        wnids = self.wnids()

        class _TenClassFolder(ImageFolder):
            def find_classes(self, directory: str) -> tuple[list[str], dict[str, int]]:
                return list(wnids), {w: i for i, w in enumerate(wnids)}

        def folder(split: str, train: bool) -> ImageFolder:
            return _TenClassFolder(
                str(self.root / split),
                transform=self.transforms(train),
                is_valid_file=lambda p: p.lower().endswith(_IMG_EXT),
            )

        val = folder("val", train=False)
        return Splits(train=folder("train", train=True), val={"val": val}, test={"test": val})
