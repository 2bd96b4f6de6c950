"""Handwritten-digit readers: scikit-learn's bundled digits and the cluttered-canvas variant (offline, real)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, TensorDataset

from compresslab.data.base import DatasetSource, Splits, check_fractions, stratified_split
from compresslab.utils.errors import ConfigError


class Digits(DatasetSource):
    """scikit-learn's bundled handwritten digits (UCI, 1,797 8×8 images, 16 grey levels), offline and real.

    The 8×8 images are scaled to [0, 1], upsampled bilinearly to ``image_size`` and standardised with the
    training split's mean and std. Splits are stratified with ``split_seed`` (fixed across training seeds).

    With ``augment`` each training image is redrawn at every access under a random affine map (rotation
    ±``affine_degrees``, shift ±``affine_translate`` of the side, scale in ``affine_scale``; from the torch RNG that
    ``seed_everything`` seeds, so under DDP each rank draws its own maps and a multi-process run sees other maps
    than a single process; applied in [0, 1] before standardising, so the border fills with background), and
    ``train_repeats`` presents the training split that many times per epoch: more distinct images per epoch from the
    same 1,797 digits (issue 19's lower-variance ancestry task). With ``augment_eval`` the validation and test
    images go through the same kind of map once, in a fixed draw seeded by ``split_seed`` (identical for every
    training seed and every run), so that the evaluation asks for the invariance the training taught, and the task
    keeps headroom below 100 %; ``eval_draws`` maps of each image (more evaluated images, so less of the
    seed-to-seed spread is the test sample's). Otherwise evaluation images are never mapped.

    Args:
        image_size: side of the upsampled square image.
        val_fraction: fraction of all samples held out for validation.
        test_fraction: fraction of all samples held out for the test split.
        split_seed: seed of the stratified split.
        classes: keep only these digits, relabelled 0..len−1 in the given order (e.g. [0, 1, 2, 3, 4] as an
            "ancestry" task and [5, 6, 7, 8, 9] as a downstream task); None keeps all ten.
        train_per_class: keep only this many training images per class (a few-shot downstream task, where the
            initialisation has a gap to close; the subset is fixed by ``split_seed``); None keeps the whole split.
        augment: random affine maps on the training split (above).
        train_repeats: copies of the training split per epoch (each freshly augmented; > 1 needs ``augment``).
        affine_degrees: largest rotation of the affine map, in degrees.
        affine_translate: largest shift of the affine map, as a fraction of the side (both axes).
        affine_scale: [low, high] range of the affine map's scale factor.
        augment_eval: map validation and test images too, once, with a fixed seeded draw (needs ``augment``).
        eval_draws: with ``augment_eval``, that many fixed maps of each validation and test image.
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
        train_per_class: int | None = None,
        augment: bool = False,
        train_repeats: int = 1,
        affine_degrees: float = 10.0,
        affine_translate: float = 0.1,
        affine_scale: Sequence[float] = (0.9, 1.1),
        augment_eval: bool = False,
        eval_draws: int = 1,
    ) -> None:
        if train_per_class is not None and (not isinstance(train_per_class, int) or train_per_class < 1):
            raise ConfigError(
                "data.dataset.train_per_class",
                train_per_class,
                "a positive integer or null (the whole training split)",
                "set train_per_class=20, or null.",
            )
        self.train_per_class = train_per_class
        self.augment = bool(augment)
        self.train_repeats = _copies("train_repeats", train_repeats, "augment", augment)
        if augment_eval and not augment:
            raise ConfigError(
                "data.dataset.augment_eval",
                augment_eval,
                "false unless augment=true (it evaluates the invariance the augmented training teaches)",
                "set augment=true, or augment_eval=false.",
            )
        self.augment_eval = bool(augment_eval)
        self.eval_draws = _copies("eval_draws", eval_draws, "augment_eval", augment_eval)
        if not 0.0 <= affine_degrees <= 180.0:
            raise ConfigError(
                "data.dataset.affine_degrees", affine_degrees, "in [0, 180]", "e.g. affine_degrees=10."
            )
        if not 0.0 <= affine_translate <= 0.5:
            raise ConfigError(
                "data.dataset.affine_translate", affine_translate, "in [0, 0.5]", "e.g. affine_translate=0.1."
            )
        scale = tuple(float(v) for v in affine_scale)
        if len(scale) != 2 or not 0.0 < scale[0] <= scale[1]:
            raise ConfigError(
                "data.dataset.affine_scale",
                list(affine_scale),
                "[low, high] with 0 < low <= high",
                "e.g. [0.9, 1.1].",
            )
        self.affine = {"degrees": float(affine_degrees), "translate": float(affine_translate), "scale": scale}
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
        check_fractions(val_fraction, test_fraction)
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

    def _digits(self) -> tuple[np.ndarray, np.ndarray]:
        """scikit-learn's 8×8 images [N, 8, 8] (0-16) and labels [N], only ``classes`` (relabelled 0..len−1)."""
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images, target = bunch.images, bunch.target
        if self.classes is not None:
            keep = np.isin(target, self.classes)
            relabel = {c: i for i, c in enumerate(self.classes)}
            images, target = images[keep], np.array([relabel[int(t)] for t in target[keep]])
        return images, target

    def load(self) -> Splits:
        images, target = self._digits()
        x = torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 16.0  # [N, 1, 8, 8] in [0, 1]
        x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        y = torch.tensor(target, dtype=torch.long)
        train, val, test = stratified_split(target, [self.val_fraction, self.test_fraction], self.split_seed)
        if self.train_per_class is not None:
            train = few_per_class(target, train, self.train_per_class, self.split_seed)
        mean, std = x[train].mean(), x[train].std()
        train_set = (
            _AffineDigits(x[train], y[train], (float(mean), float(std)), self.train_repeats, self.affine)
            if self.augment
            else TensorDataset((x[train] - mean) / std, y[train])
        )
        parts = {}
        for offset, (name, idx) in enumerate((("val", val), ("test", test)), start=1):
            images, labels = x[idx], y[idx]
            if self.augment_eval:  # one fixed draw per split, the same for every training seed
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(self.split_seed * 1000 + offset)
                    mapped = _AffineDigits(images, labels, (0.0, 1.0), self.eval_draws, self.affine)
                    images = torch.stack([mapped[i][0] for i in range(len(mapped))])  # [draws·n, 1, S, S]
                labels = labels.repeat(self.eval_draws)
            parts[name] = TensorDataset((images - mean) / std, labels)
        return Splits(train=train_set, val={"val": parts["val"]}, test={"test": parts["test"]})


def _copies(field: str, value: int, switch: str, enabled: bool) -> int:
    """``value`` copies of a split per epoch: an integer >= 1, and 1 unless the random maps of ``switch`` are on
    (identical copies add nothing)."""
    if not isinstance(value, int) or value < 1 or (value > 1 and not enabled):
        raise ConfigError(
            f"data.dataset.{field}",
            value,
            f"an integer >= 1, and 1 unless {switch}=true (identical copies add nothing)",
            f"set {field}=1, or {switch}=true with {field}=4.",
        )
    return value


def few_per_class(labels: np.ndarray, idx: np.ndarray, n: int, seed: int) -> np.ndarray:
    """The first ``n`` of each class of ``idx`` in a permutation seeded by ``seed`` (sorted); an error when a class
    has fewer."""
    order = np.random.default_rng(seed).permutation(idx)
    picked = []
    for c in np.unique(labels[idx]):
        members = order[labels[order] == c]
        if len(members) < n:
            raise ConfigError(
                "data.dataset.train_per_class",
                n,
                f"at most {len(members)} (the training images of class {int(c)})",
                f"set train_per_class={len(members)} or less.",
            )
        picked.append(members[:n])
    return np.sort(np.concatenate(picked))


class _AffineDigits(Dataset):
    """Training digits under a fresh random affine map at every access, ``repeats`` copies per epoch (item ``i`` is
    digit ``i mod N``). Images in [0, 1] are mapped, then standardised with ``mean_std``; ``affine`` holds
    ``RandomAffine``'s degrees, translate (one fraction for both axes) and scale."""

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        mean_std: tuple[float, float],
        repeats: int,
        affine: dict,
    ) -> None:
        from torchvision.transforms import v2

        self.images, self.labels = images, labels  # [N, 1, S, S] in [0, 1], [N]
        self.mean_std, self.repeats = mean_std, repeats
        shift = affine["translate"]
        self.affine = v2.RandomAffine(
            degrees=affine["degrees"], translate=(shift, shift), scale=affine["scale"]
        )

    def __len__(self) -> int:
        return self.repeats * len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        j = i % len(self.labels)
        mean, std = self.mean_std
        return (self.affine(self.images[j]) - mean) / std, self.labels[j]  # [1, S, S]


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
        val_fraction, test_fraction, split_seed, classes: as :class:`Digits`.
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
        classes: Sequence[int] | None = None,
    ) -> None:
        super().__init__(canvas_size, val_fraction, test_fraction, split_seed, classes)
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
        images, target = self._digits()
        d = self.digit_size
        digits = torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 16.0  # [N, 1, 8, 8]
        digits = F.interpolate(digits, size=(d, d), mode="bilinear", align_corners=False)[:, 0]  # [N, d, d]
        y = torch.tensor(target, dtype=torch.long)
        train, val, test = stratified_split(target, [self.val_fraction, self.test_fraction], self.split_seed)

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
