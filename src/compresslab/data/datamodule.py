"""The shared LightningDataModule: one class serves every dataset through a :class:`DatasetSource`.

``batch_size`` is the *global* batch: under DDP each of the ``world_size`` processes loads
``batch_size // world_size`` samples per step, so a run's optimisation is the same whatever the device count.
Training batches come from a ``DistributedSampler`` in single-process runs too (``num_replicas=1``): the
sample order then depends only on ``seed`` and the epoch, and a 2-process run sees exactly the batches a
1-process run sees, split in two; a run resumed from an end-of-epoch checkpoint replays exactly the batches
of an uninterrupted run (tests/test_resume.py). A mid-epoch checkpoint is resumable but not bit-exact
(Lightning warns); torchdata's StatefulDataLoader was tried for exact mid-epoch resume and replayed the
wrong batches under Lightning 2.6, so it is not used.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from lightning.pytorch import LightningDataModule
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from compresslab.data.base import DatasetSource, IndexedDataset, Splits
from compresslab.utils.errors import ConfigError, check_type
from compresslab.utils.logging import get_logger

log = get_logger(__name__)


class DataModule(LightningDataModule):
    """Serve a :class:`DatasetSource` to Lightning.

    Args:
        dataset: the dataset reader (built from ``data.dataset`` in the config).
        num_classes: number of classes; checked against the reader, and read by model configs
            (``${data.num_classes}``) so model and data can never disagree silently.
        input_shape: shape of one input (no batch dim); checked against the reader; read by model configs
            and by ``compresslab-measure``.
        batch_size: global batch size (all devices together). Must be positive and divisible by the world size.
        eval_batch_size: global batch size for validation/test; defaults to ``batch_size``.
        num_workers: DataLoader worker processes per device (per data config: decoding-heavy sets such as
            ImageNet-10 need several per GPU; in-memory sets need none).
        pin_memory: pin host memory so host-to-GPU copies are asynchronous; ``null`` (default): pin exactly
            when a CUDA device is present.
        persistent_workers: keep worker processes alive between epochs (with ``num_workers > 0``), so each
            epoch does not pay the workers' start-up and the dataset's re-opening.
        prefetch_factor: batches each worker loads ahead (``null``: PyTorch's default, 2; unused without workers).
        seed: seed of the training-order shuffle (the epoch is added each epoch).
        drop_last: drop the last incomplete training batch (keeps DDP and single-process runs identical).
        return_indices: training batches are ``(x, y, index)`` (:class:`IndexedDataset`): the index of each sample
            in the training split, for models that look up per-sample values (HPM-KD's cached teacher logits).
            A model asks for them in its ``setup`` with :meth:`request_indices`; the splits are never modified.
    """

    def __init__(
        self,
        dataset: DatasetSource,
        num_classes: int,
        input_shape: Sequence[int],
        batch_size: int = 64,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        pin_memory: bool | None = None,
        persistent_workers: bool = True,
        prefetch_factor: int | None = None,
        seed: int = 0,
        drop_last: bool = True,
        return_indices: bool = False,
    ) -> None:
        super().__init__()
        for key, value in (("data.batch_size", batch_size), ("data.eval_batch_size", eval_batch_size)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise ConfigError(
                    key,
                    value,
                    "a positive integer (the global batch size over all devices)",
                    f"set {key} to e.g. 64.",
                )
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ConfigError("data.num_workers", num_workers, "an integer >= 0", "set data.num_workers=0.")
        if prefetch_factor is not None and (isinstance(prefetch_factor, bool) or prefetch_factor < 1):
            raise ConfigError(
                "data.prefetch_factor",
                prefetch_factor,
                "null or an integer >= 1 (batches each worker loads ahead; unused with data.num_workers=0)",
                "set data.prefetch_factor=null.",
            )
        check_type(
            "data.dataset",
            dataset,
            DatasetSource,
            "a compresslab.data.DatasetSource",
            "point data.dataset._target_ at a reader class from compresslab.data.",
        )
        if dataset.num_classes != num_classes:
            raise ConfigError(
                "data.num_classes",
                num_classes,
                f"{dataset.num_classes} (what {dataset.name} has)",
                f"set data.num_classes={dataset.num_classes}.",
            )
        if tuple(dataset.input_shape) != tuple(input_shape):
            raise ConfigError(
                "data.input_shape",
                list(input_shape),
                f"{list(dataset.input_shape)} (what the {dataset.name} reader produces)",
                f"set data.input_shape={list(dataset.input_shape)}.",
            )
        self.dataset = dataset
        self.num_classes = num_classes
        self.input_shape = tuple(input_shape)
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.num_workers = num_workers
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else pin_memory
        self.persistent_workers = persistent_workers
        self.prefetch_factor = prefetch_factor
        self.seed = seed
        self.drop_last = drop_last
        self.return_indices = bool(return_indices)
        self.splits: Splits | None = None

    # ---------------------------------------------------------------------------------------------- helpers
    @property
    def world_size(self) -> int:
        return self.trainer.world_size if self.trainer is not None else 1

    @property
    def rank(self) -> int:
        return self.trainer.global_rank if self.trainer is not None else 0

    def per_device_batch_size(self, world_size: int | None = None, eval: bool = False) -> int:
        """``batch_size // world_size``, after checking it divides evenly."""
        world_size = world_size or self.world_size
        key, total = (
            ("data.eval_batch_size", self.eval_batch_size) if eval else ("data.batch_size", self.batch_size)
        )
        if total % world_size:
            lo, hi = total - total % world_size, total + world_size - total % world_size
            raise ConfigError(
                key,
                total,
                f"a multiple of the world size {world_size} (it is the global batch)",
                f"set {key}={lo or hi} or {hi}.",
            )
        return total // world_size

    @property
    def val_names(self) -> list[str]:
        return list(self.loaded_splits().val)

    @property
    def test_names(self) -> list[str]:
        return list(self.loaded_splits().test)

    def loaded_splits(self) -> Splits:
        """The dataset's splits, loaded (and validated, :meth:`setup`) on first use: what a LightningModule reads
        in its own ``setup`` (training examples for per-example tables, evaluation split names and sizes)."""
        if self.splits is None:
            self.setup()
        assert self.splits is not None
        return self.splits

    #: the former private name, kept while callers move to :meth:`loaded_splits`
    _splits = loaded_splits

    # ---------------------------------------------------------------------------------------------- hooks
    def check(self, world_size: int | None = None) -> None:
        """Validate the batch sizes against ``world_size`` and the files on disk (read-only: safe on every rank,
        run by the entry points before loggers start or any model is measured)."""
        self.per_device_batch_size(world_size)
        self.per_device_batch_size(world_size, eval=True)
        self.dataset.check()

    def check_train_split(self, world_size: int | None = None) -> None:
        """Fail before any work when training would run no optimizer step: an empty training split, or (with
        ``drop_last``) one smaller than a global batch. Reads the splits; a single-process run keeps them for
        ``fit`` (loading is seeded by the dataset's own split seed, never the global RNG, so nothing else changes),
        a multi-process one leaves the DataModule as it found it, so spawned DDP ranks load their own data exactly
        as without the check."""
        world_size = world_size or self.world_size
        per_device = self.per_device_batch_size(world_size)
        loaded_before = self.splits is not None
        size = len(self.loaded_splits().train)
        if not loaded_before and world_size > 1:
            self.splits = None
        name = self.dataset.name
        if size == 0:
            raise ConfigError(
                "data",
                name,
                "a dataset with a non-empty training split (train=true)",
                f"the training split of {name} is empty; point the reader at the training data, or run "
                "train=false to evaluate only.",
            )
        per_rank = -(-size // world_size)  # the DistributedSampler pads every rank to ceil(size / world_size)
        if self.drop_last and per_rank < per_device:
            raise ConfigError(
                "data.batch_size",
                self.batch_size,
                f"at most {size} (the training split of {name} has {size} samples; with data.drop_last=true a "
                "smaller split makes no batch and trains nothing)",
                f"set data.batch_size={_largest_fitting_batch(size, world_size)} or data.drop_last=false.",
            )

    def setup(self, stage: str | None = None) -> None:
        if self.splits is None:
            self.check()  # batch sizes against the world size, files on disk
            self.splits = self.dataset.load()
            log.info(f"{self.dataset.name}: split sizes {self.splits.sizes()}")

    def request_indices(self) -> None:
        """Serve training batches as ``(x, y, index)`` from now on (``return_indices``). A LightningModule that
        needs sample indices calls it in its ``setup``: the training loader is built after that hook."""
        self.return_indices = True

    def train_dataloader(self) -> DataLoader:
        ds = self.loaded_splits().train
        if self.return_indices:
            ds = IndexedDataset(ds)  # same length, same sampler order: each item gains its index
        sampler = DistributedSampler(
            ds, num_replicas=self.world_size, rank=self.rank, shuffle=True, seed=self.seed, drop_last=False
        )
        return DataLoader(
            ds,
            batch_size=self.per_device_batch_size(),
            sampler=sampler,
            drop_last=self.drop_last,
            **self._loader_kwargs(),
        )

    def val_dataloader(self) -> list[DataLoader]:
        return [self._eval_loader(ds) for ds in self.loaded_splits().val.values()]

    def test_dataloader(self) -> list[DataLoader]:
        return [self._eval_loader(ds) for ds in self.loaded_splits().test.values()]

    def _eval_loader(self, ds: Dataset) -> DataLoader:
        # every sample exactly once over all ranks (no padding duplicates), so synced metrics are exact
        sampler = UnrepeatedDistributedSampler(
            ds, num_replicas=self.world_size, rank=self.rank, shuffle=False
        )
        return DataLoader(
            ds, batch_size=self.per_device_batch_size(eval=True), sampler=sampler, **self._loader_kwargs()
        )

    def _loader_kwargs(self) -> dict:
        return {
            "num_workers": self.num_workers,
            "pin_memory": self.pin_memory,
            "persistent_workers": self.persistent_workers and self.num_workers > 0,
            "prefetch_factor": self.prefetch_factor
            if self.num_workers > 0
            else None,  # PyTorch: workers only
            "collate_fn": self.dataset.collate_fn,
        }


def _largest_fitting_batch(size: int, world_size: int) -> int:
    """The largest global batch, a multiple of ``world_size``, that one epoch of ``size`` samples fills."""
    per_rank = -(-size // world_size)
    return max(per_rank, 1) * world_size
