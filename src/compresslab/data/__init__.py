"""Shared data layer: one DataModule, one reader (:class:`DatasetSource`) per dataset format."""

from compresslab.data.base import DatasetSource, Splits, stratified_split
from compresslab.data.datamodule import DataModule
from compresslab.data.digits import ClutteredDigits, Digits
from compresslab.data.imagenet10 import IMAGENET10_WNIDS, ImageNet10
from compresslab.data.tabular import SklearnTabular
from compresslab.data.vision import Cifar

__all__ = [
    "IMAGENET10_WNIDS",
    "Cifar",
    "DataModule",
    "DatasetSource",
    "ClutteredDigits",
    "Digits",
    "ImageNet10",
    "SklearnTabular",
    "Splits",
    "stratified_split",
]
