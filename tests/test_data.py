"""Readers on fixture files in the official formats, and every bad-input path."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from compresslab.data import (
    IMAGENET10_WNIDS,
    Cifar,
    ClutteredDigits,
    DataModule,
    Digits,
    ImageNet10,
    SklearnTabular,
)
from compresslab.train import validate
from compresslab.utils.errors import ConfigError, DataError
from tests.helpers.fixtures import (
    write_cifar10_binary,
    write_cifar10_python,
    write_cifar100_binary,
    write_imagenet10,
)


def test_digits_splits_are_stratified_and_fixed():
    splits = Digits().load()
    assert splits.sizes() == {"train": 1257, "val": 180, "test": 360}
    assert sum(splits.sizes().values()) == 1797  # all of sklearn's digits
    y_test = splits.test["test"].tensors[1]
    assert torch.bincount(y_test, minlength=10).min() >= 35  # ≈36 per class
    x, _ = splits.train.tensors
    assert x.shape[1:] == (1, 32, 32)
    assert abs(float(x.mean())) < 1e-4 and float(x.std()) == pytest.approx(1.0, abs=1e-3)
    again = Digits().load()
    assert torch.equal(again.test["test"].tensors[1], y_test)


def test_augmented_digits_redraw_training_images_and_leave_evaluation_alone():
    plain = Digits(image_size=16, classes=[0, 1, 2, 3, 4]).load()
    aug = Digits(image_size=16, classes=[0, 1, 2, 3, 4], augment=True, train_repeats=3).load()
    n = plain.sizes()["train"]
    assert aug.sizes() == {**plain.sizes(), "train": 3 * n}
    for split in ("val", "test"):  # evaluation is the plain task, bit for bit
        a, b = getattr(aug, split)[split].tensors, getattr(plain, split)[split].tensors
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    x_plain, y_plain = plain.train.tensors
    torch.manual_seed(0)
    x0, y0 = aug.train[5]
    x1, y1 = aug.train[5 + n]  # the same digit, second copy of the epoch
    x2, _ = aug.train[5]  # the same item, accessed again
    assert int(y0) == int(y1) == int(y_plain[5])
    assert x0.shape == x_plain[5].shape == (1, 16, 16)
    assert not torch.equal(x0, x1) and not torch.equal(x0, x2)  # a fresh map at every access
    background = float(x_plain.min())  # a 0 pixel of [0, 1], standardised: what the border fills with
    assert float(x0.min()) == pytest.approx(background, abs=1e-5)
    # a mild map: the augmented digit still overlaps the original far more than another class's digit does
    other = int((y_plain != y_plain[5]).nonzero()[0])
    assert F.cosine_similarity(
        x0.flatten() - background, x_plain[5].flatten() - background, 0
    ) > F.cosine_similarity(x_plain[other].flatten() - background, x_plain[5].flatten() - background, 0)
    with pytest.raises(ConfigError, match="data.dataset.train_repeats"):
        Digits(train_repeats=4)  # identical copies: a config slip, not a feature


def test_augmented_evaluation_is_one_fixed_draw_of_the_configured_affine_map():
    kw = dict(
        image_size=16, classes=[0, 1, 2, 3, 4], augment=True, affine_degrees=25.0, affine_translate=0.15
    )
    plain = Digits(image_size=16, classes=[0, 1, 2, 3, 4]).load()
    torch.manual_seed(1)
    a = Digits(**kw, affine_scale=[0.75, 1.1], augment_eval=True).load()
    torch.manual_seed(2)  # another training seed: the evaluation draw must not follow it
    b = Digits(**kw, affine_scale=[0.75, 1.1], augment_eval=True).load()
    after = torch.rand(())
    torch.manual_seed(2)
    assert float(after) == float(torch.rand(()))  # the fixed draw leaves the global RNG as it found it
    for split in ("val", "test"):
        xa, ya = getattr(a, split)[split].tensors
        xb, yb = getattr(b, split)[split].tensors
        xp, yp = getattr(plain, split)[split].tensors
        assert torch.equal(xa, xb) and torch.equal(ya, yp)  # fixed by split_seed, labels untouched
        moved = (xa - xp).flatten(1).abs().amax(1) > 1e-3
        assert float(moved.float().mean()) > 0.9  # (nearly) every image is mapped; identity maps are rare
    # the configured strength reaches the training map, and the standardisation is the training split's
    assert a.train.affine.degrees == [-25.0, 25.0] and a.train.affine.scale == (0.75, 1.1)
    assert a.train.affine.translate == (0.15, 0.15)
    background = float(plain.train.tensors[0].min())
    assert float(a.test["test"].tensors[0].min()) == pytest.approx(background, abs=1e-5)
    draws = Digits(**kw, augment_eval=True, eval_draws=3).load()
    x3, y3 = draws.test["test"].tensors
    n = len(yp)
    assert torch.equal(y3, yp.repeat(3))  # draw d of image i is item d·n + i
    assert not torch.equal(x3[:n], x3[n : 2 * n]) and not torch.equal(x3[n : 2 * n], x3[2 * n :])
    with pytest.raises(ConfigError, match="data.dataset.augment_eval"):
        Digits(augment_eval=True)  # evaluation maps without training maps: a slip
    with pytest.raises(ConfigError, match="data.dataset.eval_draws"):
        Digits(augment=True, eval_draws=2)
    with pytest.raises(ConfigError, match="data.dataset.affine_scale"):
        Digits(augment=True, affine_scale=[1.1, 0.9])
    with pytest.raises(ConfigError, match="data.dataset.affine_degrees"):
        Digits(augment=True, affine_degrees=-5)


def test_few_shot_digits_keep_n_training_images_per_class_from_the_same_split():
    full = Digits(image_size=16, classes=[5, 6, 7, 8, 9]).load()
    few = Digits(image_size=16, classes=[5, 6, 7, 8, 9], train_per_class=10).load()
    x, y = few.train.tensors
    assert torch.bincount(y).tolist() == [10] * 5
    assert torch.equal(few.test["test"].tensors[1], full.test["test"].tensors[1])  # the same test images
    assert abs(float(x.mean())) < 1e-4  # standardised with the subset's own statistics
    # the subset is drawn from the full training split: every image is one of its images up to that scalar affine map
    xs, xf = x.flatten(1), full.train.tensors[0].flatten(1)
    xs, xf = (
        F.normalize(xs - xs.mean(1, keepdim=True), dim=1),
        F.normalize(xf - xf.mean(1, keepdim=True), dim=1),
    )
    assert bool(((xs @ xf.T).max(1).values > 0.9999).all())
    again = Digits(image_size=16, classes=[5, 6, 7, 8, 9], train_per_class=10).load()
    assert torch.equal(again.train.tensors[0], x)
    with pytest.raises(ConfigError, match="at most"):
        Digits(classes=[0, 1], train_per_class=500).load()


def test_cluttered_digits_keep_the_asked_classes_and_fix_only_the_evaluation_canvases():
    src = ClutteredDigits(canvas_size=32, digit_size=16, clutter=2, clutter_size=8, classes=[0, 1, 2, 3, 4])
    splits = src.load()
    plain = Digits(classes=[0, 1, 2, 3, 4]).load()
    assert splits.sizes() == plain.sizes() and src.num_classes == 5  # the same stratified split of 901 digits
    x, y = splits.test["test"][7]
    assert x.shape == (1, 32, 32) and int(y) == int(plain.test["test"].tensors[1][7])
    assert torch.equal(ClutteredDigits(32, 16, 2, 8, classes=[0, 1, 2, 3, 4]).load().test["test"][7][0], x)
    torch.manual_seed(0)
    assert not torch.equal(splits.train[3][0], splits.train[3][0])  # fresh position and clutter per access


@pytest.mark.parametrize(("name", "n", "c"), [("wine", 178, 3), ("breast_cancer", 569, 2), ("iris", 150, 3)])
def test_sklearn_tabular(name, n, c):
    src = SklearnTabular(name)
    splits = src.load()
    assert sum(splits.sizes().values()) == n and src.num_classes == c
    assert splits.train.tensors[0].shape[1] == src.input_shape[0]


def test_cifar10_binary_reads_official_layout(tmp_path: Path):
    d = write_cifar10_binary(tmp_path, per_batch=20)
    src = Cifar(str(tmp_path), "cifar10", augment=False, val_fraction=0.1)
    splits = src.load()
    assert splits.sizes() == {"train": 90, "val": 10, "test": 20}
    # first test record, re-read by hand: label byte then R, G, B planes
    raw = np.fromfile(d / "test_batch.bin", dtype=np.uint8)
    x, y = splits.test["test"][0]
    assert int(y) == raw[0] and x.shape == (3, 32, 32)
    from compresslab.data.vision import CIFAR10_MEAN, CIFAR10_STD

    expected_r00 = (raw[1] / 255 - CIFAR10_MEAN[0]) / CIFAR10_STD[0]
    assert float(x[0, 0, 0]) == pytest.approx(expected_r00, abs=1e-5)
    assert float(x[1, 0, 0]) == pytest.approx(
        (raw[1 + 1024] / 255 - CIFAR10_MEAN[1]) / CIFAR10_STD[1], abs=1e-5
    )


def test_cifar10_python_version_equals_binary(tmp_path: Path):
    write_cifar10_python(tmp_path / "py")
    write_cifar10_binary(tmp_path / "bin")
    a = Cifar(str(tmp_path / "py"), augment=False).load()
    b = Cifar(str(tmp_path / "bin"), augment=False).load()
    assert torch.equal(a.test["test"].images, b.test["test"].images)
    assert torch.equal(a.test["test"].labels, b.test["test"].labels)


def test_cifar100_binary_fine_and_coarse(tmp_path: Path):
    write_cifar100_binary(tmp_path)
    fine = Cifar(str(tmp_path), "cifar100", augment=False).load().test["test"]
    coarse = Cifar(str(tmp_path), "cifar100", label="coarse", augment=False).load().test["test"]
    assert torch.equal(coarse.labels, fine.labels // 5)  # the fixture's coarse = fine // 5
    assert Cifar(str(tmp_path), "cifar100", label="coarse").num_classes == 20


def test_cifar_python_pickle_with_code_is_refused(tmp_path: Path):
    d = write_cifar10_python(tmp_path)

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    with open(d / "test_batch", "wb") as f:
        pickle.dump({b"data": Evil(), b"labels": []}, f, protocol=2)
    with pytest.raises(DataError, match="refusing to unpickle global"):
        Cifar(str(tmp_path), format="python").load()
    assert not (tmp_path / "pwned").exists()


def test_cifar_missing_dir(tmp_path: Path):
    with pytest.raises(DataError) as e:
        Cifar(str(tmp_path / "nope")).check()
    msg = str(e.value)
    assert "nope" in msg and "cifar-10-batches-bin" in msg and "cs.toronto.edu" in msg


def test_cifar_wrong_layout(tmp_path: Path):
    (tmp_path / "cifar10").mkdir()  # a folder, but not the archive's
    with pytest.raises(DataError, match="no cifar10 archive folder found"):
        Cifar(str(tmp_path)).check()
    d = write_cifar10_binary(tmp_path)
    (d / "data_batch_3.bin").unlink()
    with pytest.raises(DataError, match=r"missing \['data_batch_3.bin'\]"):
        Cifar(str(tmp_path)).check()


def test_cifar_truncated_record_and_bad_label(tmp_path: Path):
    d = write_cifar10_binary(tmp_path)
    raw = np.fromfile(d / "test_batch.bin", dtype=np.uint8)
    raw[:-7].tofile(d / "test_batch.bin")
    with pytest.raises(DataError, match="not a positive multiple of the 3073-byte record"):
        Cifar(str(tmp_path)).load()
    raw[0] = 12
    raw.tofile(d / "test_batch.bin")
    with pytest.raises(DataError, match=r"label 12 at record 0 is outside \[0, 10\)"):
        Cifar(str(tmp_path)).load()


@pytest.mark.parametrize(
    ("override", "key", "value", "expected"),
    [
        (
            "data.dataset.variant=cifar1000",
            "data.dataset.variant",
            "cifar1000",
            "one of 'cifar10', 'cifar100'",
        ),
        ("data.dataset.format=zip", "data.dataset.format", "zip", "one of 'auto', 'binary', 'python'"),
        ("data.dataset.label=fines", "data.dataset.label", "fines", "one of 'fine', 'coarse'"),
        ("+data.dataset.image_size=4", "data.dataset.image_size", 4, "an int ≥ 8"),
    ],
)
def test_cifar_bad_choice_or_size_fails_at_config_time(train_cfg, override, key, value, expected):
    """Cifar's choices and its image_size bound are its signature's: the config's validation rejects a bad value
    before any data is read, naming the key, the value, what is accepted and the fix."""
    cfg = train_cfg(["data=cifar100", override])
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    assert (info.value.key, info.value.value) == (key, value)
    msg = str(info.value)
    assert f"config key '{key}': got {value!r}, expected {expected} (for compresslab.data.Cifar)" in msg
    assert f"Fix: set {key} to {expected}" in msg


def test_imagenet10_reads_the_ten_wnids_with_paper_transforms(tmp_path: Path):
    write_imagenet10(tmp_path, per_class=2)
    src = ImageNet10(str(tmp_path / "imagenet10"), image_size=32, resize_size=36)
    splits = src.load()
    assert splits.sizes() == {"train": 20, "val": 20, "test": 20}  # the extra wnid folder is ignored
    x, y = splits.train[0]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    labels = sorted({int(splits.val["val"][i][1]) for i in range(20)})
    assert labels == list(range(10))
    assert splits.val["val"].classes == list(IMAGENET10_WNIDS)
    names = [type(t).__name__ for t in src.transforms(train=True).transforms]
    assert names[:2] == ["RandomResizedCrop", "RandomHorizontalFlip"]
    rrc = src.transforms(train=True).transforms[0]
    assert tuple(rrc.scale) == (0.08, 1.0) and rrc.ratio == pytest.approx((3 / 4, 4 / 3))
    ev = src.transforms(train=False).transforms
    assert list(ev[0].size) == [36, 36] and list(ev[1].size) == [32, 32]


def test_imagenet10_missing_wnid_is_named(tmp_path: Path):
    write_imagenet10(tmp_path, wnids=IMAGENET10_WNIDS[:4] + IMAGENET10_WNIDS[5:])
    with pytest.raises(DataError) as e:
        ImageNet10(str(tmp_path / "imagenet10")).check()
    assert "n02430045" in str(e.value) and "train" in str(e.value)


def test_imagenet10_missing_dir(tmp_path: Path):
    with pytest.raises(DataError, match="folder does not exist"):
        ImageNet10(str(tmp_path / "imagenet10")).check()


@pytest.mark.parametrize("bs", [0, -8])
def test_non_positive_batch_size(bs):
    with pytest.raises(ConfigError, match="data.batch_size': got " + str(bs)):
        DataModule(Digits(), 10, [1, 32, 32], batch_size=bs)


def test_batch_size_not_divisible_by_world_size():
    dm = DataModule(Digits(), 10, [1, 32, 32], batch_size=63)
    assert dm.per_device_batch_size(1) == 63
    with pytest.raises(ConfigError, match="multiple of the world size 2") as e:
        dm.per_device_batch_size(2)
    assert "set data.batch_size=62 or 64" in str(e.value)


def test_datamodule_checks_shape_and_classes_against_reader():
    with pytest.raises(ConfigError, match="data.num_classes"):
        DataModule(Digits(), 12, [1, 32, 32])
    with pytest.raises(ConfigError, match=r"data.input_shape.*\[1, 32, 32\]"):
        DataModule(Digits(), 10, [1, 28, 28])


def test_single_process_order_equals_union_of_two_ranks():
    """The DDP-equivalence premise: the two ranks' batches of B/2 partition the 1-process batch of B."""

    def first_batch(world: int, rank: int) -> torch.Tensor:
        dm = DataModule(Digits(), 10, [1, 32, 32], batch_size=64, seed=3)
        dm.trainer = SimpleNamespace(world_size=world, global_rank=rank)  # what Lightning sets
        dm.setup()
        return next(iter(dm.train_dataloader()))[0]

    one = first_batch(1, 0)
    halves = [first_batch(2, r) for r in (0, 1)]
    assert one.shape[0] == 64 and halves[0].shape[0] == halves[1].shape[0] == 32
    key = lambda t: sorted(t.flatten(1).sum(1).tolist())  # noqa: E731 - order-free fingerprint of a batch
    assert key(one) == pytest.approx(key(torch.cat(halves)))
