"""Image dataset readers: scikit-learn digits (embedded), CIFAR-10/100 (official archives), ImageNet-10."""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, Subset, TensorDataset
from torchvision.transforms import v2

from compresslab.data.base import DatasetSource, Splits, stratified_split
from compresslab.utils.errors import ConfigError, DataError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
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


def _check_fractions(val_fraction: float, test_fraction: float = 0.0) -> None:
    for key, v in (
        ("data.dataset.val_fraction", val_fraction),
        ("data.dataset.test_fraction", test_fraction),
    ):
        if not 0.0 <= v < 1.0:
            raise ConfigError(key, v, "a fraction in [0, 1)", f"set {key}=0.1.")
    if val_fraction + test_fraction >= 1.0:
        raise ConfigError(
            "data.dataset.val_fraction",
            val_fraction,
            f"val_fraction + test_fraction < 1 (test_fraction={test_fraction})",
            "lower one of them.",
        )


# ------------------------------------------------------------------------------------------------ digits
class Digits(DatasetSource):
    """scikit-learn's bundled handwritten digits (UCI, 1,797 8×8 images, 16 grey levels), offline and real.

    The 8×8 images are scaled to [0, 1], upsampled bilinearly to ``image_size`` and standardised with the
    training split's mean and std. Splits are stratified with ``split_seed`` (fixed across training seeds).

    Args:
        image_size: side of the upsampled square image.
        val_fraction: fraction of all samples held out for validation.
        test_fraction: fraction of all samples held out for the test split.
        split_seed: seed of the stratified split.
        classes: keep only these digits, relabelled 0..len−1 in the given order (e.g. [0, 1, 2, 3, 4] as an
            "ancestry" task and [5, 6, 7, 8, 9] as a downstream task); None keeps all ten.
    """

    name = "digits"
    source_hint = "bundled with scikit-learn (sklearn.datasets.load_digits); nothing to download"

    def __init__(
        self,
        image_size: int = 32,
        val_fraction: float = 0.1,
        test_fraction: float = 0.2,
        split_seed: int = 0,
        classes: Sequence[int] | None = None,
    ) -> None:
        if classes is not None:
            classes = [int(c) for c in classes]
            if not classes or len(set(classes)) != len(classes) or not all(0 <= c <= 9 for c in classes):
                raise ConfigError(
                    "data.dataset.classes",
                    classes,
                    "distinct digits in 0..9",
                    "e.g. classes=[0,1,2,3,4] or null.",
                )
        self.classes = classes
        if image_size < 8:
            raise ConfigError("data.dataset.image_size", image_size, "an integer >= 8", "set image_size=32.")
        _check_fractions(val_fraction, test_fraction)
        self.image_size, self.val_fraction, self.test_fraction, self.split_seed = (
            image_size,
            val_fraction,
            test_fraction,
            split_seed,
        )

    @property
    def num_classes(self) -> int:
        return 10 if self.classes is None else len(self.classes)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (1, self.image_size, self.image_size)

    def load(self) -> Splits:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images, target = bunch.images, bunch.target
        if self.classes is not None:
            keep = np.isin(target, self.classes)
            relabel = {c: i for i, c in enumerate(self.classes)}
            images, target = images[keep], np.array([relabel[int(t)] for t in target[keep]])
        x = torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 16.0  # [N, 1, 8, 8] in [0, 1]
        x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        y = torch.tensor(target, dtype=torch.long)
        train, val, test = stratified_split(target, [self.val_fraction, self.test_fraction], self.split_seed)
        mean, std = x[train].mean(), x[train].std()
        x = (x - mean) / std
        parts = {
            name: TensorDataset(x[idx], y[idx])
            for name, idx in (("train", train), ("val", val), ("test", test))
        }
        return Splits(train=parts["train"], val={"val": parts["val"]}, test={"test": parts["test"]})


class _ClutterCanvas(Dataset):
    """Digits pasted on a canvas with clutter fragments, composed per item.

    With ``seed=None`` every access draws a fresh position and fresh clutter (training: the placements are
    an augmentation, drawn from the torch RNG that ``seed_everything`` seeds); with a seed, item ``i`` is
    always the same image (evaluation splits).
    """

    def __init__(
        self,
        digits: torch.Tensor,
        labels: torch.Tensor,
        canvas: int,
        clutter: int,
        clutter_size: int,
        mean_std: tuple[float, float] = (0.0, 1.0),
        seed: int | None = None,
    ) -> None:
        self.digits, self.labels, self.canvas = digits, labels, canvas  # digits [N, d, d] in [0, 1]
        self.clutter, self.clutter_size, self.mean_std, self.seed = clutter, clutter_size, mean_std, seed

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        gen = None if self.seed is None else torch.Generator().manual_seed(self.seed * 1_000_003 + i)
        d, size, frag, n = self.digits.shape[-1], self.canvas, self.clutter_size, len(self.labels)

        def draw(high: int, count: int = 2) -> list[int]:
            return torch.randint(0, high, (count,), generator=gen).tolist()

        x = torch.zeros(size, size)  # [S, S]
        for _ in range(self.clutter):  # fragments of other digits of the same split
            (src,) = draw(n, 1)
            sr, sc = draw(d - frag + 1)
            tr, tc = draw(size - frag + 1)
            region = x[tr : tr + frag, tc : tc + frag]
            torch.maximum(region, self.digits[src, sr : sr + frag, sc : sc + frag], out=region)
        r, c = draw(size - d + 1)
        region = x[r : r + d, c : c + d]
        torch.maximum(region, self.digits[i], out=region)
        mean, std = self.mean_std
        return ((x - mean) / std).unsqueeze(0), self.labels[i]  # [1, S, S]


class ClutteredDigits(Digits):
    """Digits at a random position of a larger canvas with clutter: translation + distractors.

    A reduced-scale stand-in for natural images where spatial downsampling matters (the cluttered-MNIST
    construction of the spatial-transformer literature, on scikit-learn's real digits, offline). Each 8×8 digit
    is upsampled to ``digit_size`` and pasted at a uniform random position of a ``canvas_size`` canvas, over
    ``clutter`` fragments (random ``clutter_size`` crops of other digits of the same split, pixel-wise max).
    Validation and test images are fixed by ``split_seed``; training images are recomposed at every access
    (fresh position and clutter: the augmentation that keeps 1,257 digits from being memorised).
    Standardised with the mean and std of a fixed rendering of the training split.

    Args:
        canvas_size: side of the square canvas.
        digit_size: side of the upsampled digit.
        clutter: fragments per image.
        clutter_size: side of each fragment.
        val_fraction, test_fraction, split_seed: as :class:`Digits`.
    """

    name = "cluttered_digits"

    def __init__(
        self,
        canvas_size: int = 64,
        digit_size: int = 24,
        clutter: int = 8,
        clutter_size: int = 10,
        val_fraction: float = 0.1,
        test_fraction: float = 0.2,
        split_seed: int = 0,
    ) -> None:
        super().__init__(canvas_size, val_fraction, test_fraction, split_seed)
        if not 8 <= digit_size <= canvas_size:
            raise ConfigError(
                "data.dataset.digit_size",
                digit_size,
                f"an integer in [8, canvas_size={canvas_size}]",
                "set 24.",
            )
        if not 1 <= clutter_size <= digit_size or clutter < 0:
            raise ConfigError(
                "data.dataset.clutter_size",
                (clutter, clutter_size),
                f"clutter >= 0 and clutter_size in [1, digit_size={digit_size}]",
                "set clutter=8 clutter_size=10.",
            )
        self.digit_size, self.clutter, self.clutter_size = digit_size, clutter, clutter_size

    def load(self) -> Splits:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        d = self.digit_size
        digits = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0  # [N, 1, 8, 8]
        digits = F.interpolate(digits, size=(d, d), mode="bilinear", align_corners=False)[:, 0]  # [N, d, d]
        y = torch.tensor(bunch.target, dtype=torch.long)
        train, val, test = stratified_split(
            bunch.target, [self.val_fraction, self.test_fraction], self.split_seed
        )

        def canvas(idx: np.ndarray, seed: int | None, mean_std: tuple[float, float] = (0.0, 1.0)) -> Dataset:
            return _ClutterCanvas(
                digits[idx], y[idx], self.image_size, self.clutter, self.clutter_size, mean_std, seed
            )

        fixed_train = torch.stack([x for x, _ in canvas(train, self.split_seed)])  # for the statistics only
        stats = (fixed_train.mean().item(), fixed_train.std().item())
        return Splits(
            train=canvas(train, None, stats),
            val={"val": canvas(val, self.split_seed + 1, stats)},
            test={"test": canvas(test, self.split_seed + 2, stats)},
        )


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
        image_size: int = 32,
    ) -> None:
        if not isinstance(image_size, int) or image_size < 8:
            raise ConfigError("data.dataset.image_size", image_size, "an integer >= 8", "set image_size=32.")
        self.image_size = image_size
        if variant not in _CIFAR_LAYOUT:
            raise ConfigError(
                "data.dataset.variant",
                variant,
                "'cifar10' or 'cifar100'",
                "use data=cifar10 or data=cifar100.",
            )
        if format not in ("auto", "binary", "python"):
            raise ConfigError(
                "data.dataset.format", format, "'auto', 'binary' or 'python'", "set format=auto."
            )
        if label not in ("fine", "coarse"):
            raise ConfigError("data.dataset.label", label, "'fine' or 'coarse'", "set label=fine.")
        _check_fractions(val_fraction)
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


# ------------------------------------------------------------------------------------------------ ImageNet-10
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
