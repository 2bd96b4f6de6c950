"""Image dataset readers: CIFAR-10/100 (official archives) here; scikit-learn digits (embedded) in
:mod:`compresslab.data.digits` and ImageNet-10 in :mod:`compresslab.data.imagenet10`, re-exported from here."""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import torch
from torch.utils.data import Dataset, Subset
from torchvision.transforms import v2

from compresslab.data.base import DatasetSource, Splits, check_fractions, stratified_split
from compresslab.data.digits import ClutteredDigits, Digits
from compresslab.data.imagenet10 import IMAGENET10_WNIDS, IMAGENET_MEAN, IMAGENET_STD, ImageNet10
from compresslab.utils.config import Range
from compresslab.utils.errors import DataError

CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN, CIFAR100_STD = (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)


class TransformedTensorDataset(Dataset):
    """uint8 image tensors ``[N, C, H, W]`` + labels, with a per-sample transform."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform: Callable | None = None) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.images[i]
        return (self.transform(x) if self.transform else x), self.labels[i]


# ------------------------------------------------------------------------------------------------ CIFAR
class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickler for the CIFAR 'python version' batches that builds only numpy arrays, lists, dicts and bytes.

    Any other global (``os.system``, ``builtins.eval``, …) is refused, so a tampered archive cannot run code.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to unpickle global '{module}.{name}' (only numpy arrays, lists, "
            "dicts and bytes are allowed in CIFAR batch files)"
        )


def restricted_unpickle(path: Path) -> Any:
    """Load a CIFAR python-version batch file with :class:`_ArrayOnlyUnpickler` (latin1 for py2 pickles)."""
    try:
        return _ArrayOnlyUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as e:
        raise DataError(
            path, f"not a valid CIFAR python batch: {e}", "a pickled dict with b'data' and labels"
        ) from None


_CIFAR_LAYOUT = {
    # variant: (binary dir, binary train files, binary test files, python dir, py train, py test)
    "cifar10": (
        "cifar-10-batches-bin",
        [f"data_batch_{i}.bin" for i in range(1, 6)],
        ["test_batch.bin"],
        "cifar-10-batches-py",
        [f"data_batch_{i}" for i in range(1, 6)],
        ["test_batch"],
    ),
    "cifar100": ("cifar-100-binary", ["train.bin"], ["test.bin"], "cifar-100-python", ["train"], ["test"]),
}


class Cifar(DatasetSource):
    """CIFAR-10 / CIFAR-100 from the official archives, extracted under ``root``.

    Binary version (preferred): ``cifar-10-batches-bin/data_batch_{1..5}.bin, test_batch.bin`` — records of
    1 label byte + 3072 pixel bytes; ``cifar-100-binary/{train,test}.bin`` — 1 coarse + 1 fine label byte +
    3072 bytes. Python version: ``cifar-10-batches-py/`` or ``cifar-100-python/`` pickles, read with a
    restricted unpickler. Pixels are channel-major (R plane, G plane, B plane), 32×32.

    Args:
        root: folder holding the extracted archive folder.
        variant: ``cifar10`` or ``cifar100``.
        format: ``binary``, ``python`` or ``auto`` (binary if present, else python).
        label: ``fine`` or ``coarse`` (CIFAR-100 only; 100 or 20 classes).
        val_fraction: fraction of the training set held out (stratified) for validation.
        split_seed: seed of that split.
        augment: random crop (pad 4) + horizontal flip on the training split.
        image_size: resize every image to this side (bicubic, after augmentation), e.g. 224 to fine-tune ViTs
            pre-trained at 224² (learngene downstream runs); 32 keeps the native size.

    The choices and the ``image_size`` bound are the signature's: the config's signature layer
    (:mod:`compresslab.utils.config`) rejects a bad value before the run starts.
    """

    source_hint = (
        "https://www.cs.toronto.edu/~kriz/cifar.html (download the binary version and extract it under root)"
    )

    def __init__(
        self,
        root: str,
        variant: Literal["cifar10", "cifar100"] = "cifar10",
        format: Literal["auto", "binary", "python"] = "auto",
        label: Literal["fine", "coarse"] = "fine",
        val_fraction: float = 0.1,
        split_seed: int = 0,
        augment: bool = True,
        image_size: Annotated[int, Range(ge=8, hint="32 keeps the native size")] = 32,
    ) -> None:
        self.image_size = image_size
        check_fractions(val_fraction)
        self.root, self.variant, self.format, self.label = Path(root), variant, format, label
        self.val_fraction, self.split_seed, self.augment = val_fraction, split_seed, augment
        self.name = variant

    @property
    def num_classes(self) -> int:
        if self.variant == "cifar10":
            return 10
        return 100 if self.label == "fine" else 20

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (3, self.image_size, self.image_size)

    def _resolve_format(self) -> str:
        bdir, btrain, btest, pdir, ptrain, ptest = _CIFAR_LAYOUT[self.variant]
        if not self.root.is_dir():
            raise DataError(
                self.root,
                "data folder does not exist",
                f"{self.root}/{bdir}/ (binary version) or {self.root}/{pdir}/ (python version)",
                self.source_hint,
            )
        want = ["binary", "python"] if self.format == "auto" else [self.format]
        for fmt in want:
            folder, files = (bdir, btrain + btest) if fmt == "binary" else (pdir, ptrain + ptest)
            if (self.root / folder).is_dir():
                missing = [f for f in files if not (self.root / folder / f).is_file()]
                if missing:
                    raise DataError(
                        self.root / folder,
                        f"incomplete {self.variant} {fmt} archive: missing {missing}",
                        f"the files {files}",
                        self.source_hint,
                    )
                return fmt
        expected = " or ".join(f"{self.root}/{bdir if f == 'binary' else pdir}/" for f in want)
        present = sorted(p.name for p in self.root.iterdir())[:10]
        raise DataError(
            self.root,
            f"no {self.variant} archive folder found (present: {present})",
            expected,
            self.source_hint,
        )

    def check(self) -> None:
        self._resolve_format()

    def _read_binary(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        n_label = 1 if self.variant == "cifar10" else 2
        rec = n_label + 3072
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size == 0 or raw.size % rec:
            raise DataError(
                path,
                f"size {raw.size} B is not a positive multiple of the {rec}-byte record",
                f"{self.variant} binary records: {n_label} label byte(s) + 3072 pixel bytes",
            )
        raw = raw.reshape(-1, rec)
        labels = raw[:, 0] if self.variant == "cifar10" else raw[:, 0 if self.label == "coarse" else 1]
        return raw[:, n_label:].reshape(-1, 3, 32, 32), labels.astype(np.int64)

    def _read_python(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        d = restricted_unpickle(path)
        key = (
            b"labels"
            if self.variant == "cifar10"
            else (b"fine_labels" if self.label == "fine" else b"coarse_labels")
        )
        if not isinstance(d, dict) or b"data" not in d or key not in d:
            got = sorted(d) if isinstance(d, dict) else type(d).__name__
            raise DataError(path, f"missing keys: has {got}", f"a dict with b'data' and {key!r}")
        data, labels = np.asarray(d[b"data"]), np.asarray(d[key], dtype=np.int64)
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
            raise DataError(
                path,
                f"b'data' has dtype {data.dtype} shape {data.shape}, {len(labels)} labels",
                "uint8 array of shape [N, 3072] and N labels",
            )
        return data.reshape(-1, 3, 32, 32), labels

    def _read(self, fmt: str, files: Sequence[str], folder: str) -> tuple[torch.Tensor, torch.Tensor]:
        reader = self._read_binary if fmt == "binary" else self._read_python
        xs, ys = zip(*(reader(self.root / folder / f) for f in files), strict=True)
        x, y = np.concatenate(xs), np.concatenate(ys)
        bad = (y < 0) | (y >= self.num_classes)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                self.root / folder,
                f"label {int(y[i])} at record {i} is outside [0, {self.num_classes})",
                f"{self.variant} {self.label} labels",
            )
        return torch.from_numpy(x.copy()), torch.from_numpy(y)

    def load(self) -> Splits:
        fmt = self._resolve_format()
        bdir, btrain, btest, pdir, ptrain, ptest = _CIFAR_LAYOUT[self.variant]
        folder, train_files, test_files = (bdir, btrain, btest) if fmt == "binary" else (pdir, ptrain, ptest)
        x_tr, y_tr = self._read(fmt, train_files, folder)
        x_te, y_te = self._read(fmt, test_files, folder)
        mean, std = (
            (CIFAR10_MEAN, CIFAR10_STD) if self.variant == "cifar10" else (CIFAR100_MEAN, CIFAR100_STD)
        )
        resize = [] if self.image_size == 32 else [v2.Resize(self.image_size, v2.InterpolationMode.BICUBIC)]
        to_float = [*resize, v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]
        train_tf = v2.Compose(
            ([v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip()] if self.augment else []) + to_float
        )
        eval_tf = v2.Compose(to_float)
        tr_idx, val_idx = stratified_split(y_tr.numpy(), [self.val_fraction], self.split_seed)
        train = Subset(TransformedTensorDataset(x_tr, y_tr, train_tf), tr_idx.tolist())
        val = Subset(TransformedTensorDataset(x_tr, y_tr, eval_tf), val_idx.tolist())
        test = TransformedTensorDataset(x_te, y_te, eval_tf)
        return Splits(train=train, val={"val": val}, test={"test": test})


__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR100_MEAN",
    "CIFAR100_STD",
    "IMAGENET10_WNIDS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "Cifar",
    "ClutteredDigits",
    "Digits",
    "ImageNet10",
    "TransformedTensorDataset",
    "restricted_unpickle",
]
