"""Tabular datasets bundled with scikit-learn (wine, breast_cancer, iris): real data, offline."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch.utils.data import TensorDataset

from compresslab.data.base import DatasetSource, Splits, stratified_split
from compresslab.utils.errors import ConfigError

_LOADERS = {
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "iris": "load_iris",
    "digits": "load_digits",
}
_SHAPES = {"wine": (13, 3), "breast_cancer": (30, 2), "iris": (4, 3), "digits": (64, 10)}


class SklearnTabular(DatasetSource):
    """A scikit-learn bundled table, standardised with the training split's statistics.

    Args:
        name: ``wine``, ``breast_cancer``, ``iris`` or ``digits`` (the 64 raw pixels as features).
        val_fraction: fraction held out for validation (stratified).
        test_fraction: fraction held out for testing (stratified).
        split_seed: seed of the split (fixed across training seeds).
    """

    source_hint = "bundled with scikit-learn; nothing to download"

    def __init__(
        self,
        name: Literal["wine", "breast_cancer", "iris", "digits"],
        val_fraction: float = 0.15,
        test_fraction: float = 0.25,
        split_seed: int = 0,
    ) -> None:
        if name not in _LOADERS:
            raise ConfigError("data.dataset.name", name, f"one of {sorted(_LOADERS)}", "pick one of those.")
        self.name, self.val_fraction, self.test_fraction, self.split_seed = (
            name,
            val_fraction,
            test_fraction,
            split_seed,
        )

    @property
    def num_classes(self) -> int:
        return _SHAPES[self.name][1]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (_SHAPES[self.name][0],)

    def load(self) -> Splits:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, _LOADERS[self.name])()
        x, y = np.asarray(bunch.data, dtype=np.float32), np.asarray(bunch.target, dtype=np.int64)
        train, val, test = stratified_split(y, [self.val_fraction, self.test_fraction], self.split_seed)
        mean, std = x[train].mean(0), x[train].std(0) + 1e-8
        xt, yt = torch.from_numpy((x - mean) / std), torch.from_numpy(y)
        ds = {k: TensorDataset(xt[i], yt[i]) for k, i in (("train", train), ("val", val), ("test", test))}
        return Splits(train=ds["train"], val={"val": ds["val"]}, test={"test": ds["test"]})
