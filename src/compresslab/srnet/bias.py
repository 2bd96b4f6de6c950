"""Bias-only models and per-example prediction files (srnet.md §2.2).

The debiasing losses need, for every training example, the log-probabilities of a *bias-only* model (PoE,
reweighting, conf-reg) and, for conf-reg, of a CE-trained teacher. Both are produced here, from the raw data, and
stored as a *prediction file*: ``torch.save`` of ``{"format", "kind", "ids", "log_probs" [N, C], "meta"}`` keyed
by the datasets' stable example ids (loaded with ``weights_only=True``). A run aligns it to its training split
by id; an id the file lacks is a :class:`DataError` naming it.

Bias-only models (scikit-learn logistic regression on standardised features, trained and evaluated on the
training split, as Clark et al. 2019 whose models the paper uses):

* ``overlap`` — MNLI / QQP / the synthetic task (the paper's five word-overlap features): all hypothesis words
  in the premise; hypothesis is a contiguous subsequence of the premise; fraction of hypothesis words in the
  premise; mean and min over hypothesis words of the max cosine similarity to a premise word. The paper uses
  fastText vectors, which are not available offline; here a word's vector is the mean of its WordPiece input
  embeddings in the PLM being trained (its own input embedding table).
* ``claim`` — FEVER: the max-pooled word vectors of the claim alone (a claim-only bias).
* ``word_overlap`` — the fraction of hypothesis words in the premise alone (the reduced-scale synthetic task's
  injected shortcut). On that task the other overlap features see its construction — the ``never`` of a
  contradiction breaks "all words in the premise" and lowers the min similarity, a role swap breaks contiguity —
  so a bias model using them classifies the anti-aligned high-overlap pairs correctly and PoE then stops the
  main model from learning exactly those pairs; MNLI's pairs have no such construction.

Teacher predictions (:func:`teacher_prediction_file`): the train-set log-probs of a CE fine-tuned run of this
codebase, computed once and cached in that run's directory.

CLI (:mod:`compresslab.srnet.cli`): ``python -m compresslab.srnet.cli bias data=nlu/mnli --features overlap
--out data/srnet_bias/mnli_overlap.pt [more Hydra overrides]``; runs also build a missing bias file themselves
(``model.bias_features``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from compresslab.utils.checkpoint import load_file_setting
from compresslab.utils.errors import ConfigError, DataError
from compresslab.utils.io import atomic_torch_save
from compresslab.utils.logging import get_logger

log = get_logger(__name__)

FORMAT = "compresslab.srnet.predictions/1"
Features = Literal["overlap", "word_overlap", "claim"]
FEATURES: tuple[str, ...] = ("overlap", "word_overlap", "claim")
_WORD_RE = re.compile(r"[a-z0-9']+")


# ============================================================================================ word vectors
def words(text: str) -> list[str]:
    """Lower-cased word tokens (the tokenisation of :func:`compresslab.data.nlu.word_overlap`)."""
    return _WORD_RE.findall(text.lower())


class WordVectors:
    """Unit-norm word vectors from a PLM's input embedding table: mean of the word's WordPiece embeddings.

    Args:
        pretrained: local transformers checkpoint directory (tokenizer + weights); ``None`` = packaged MiniLM.
    """

    def __init__(self, pretrained: str | None = None) -> None:
        from transformers import AutoModel

        from compresslab.data.nlu import load_tokenizer
        from compresslab.srnet.nets import pretrained_dir

        path = pretrained_dir(pretrained)
        self.tokenizer = load_tokenizer(path)
        model = AutoModel.from_pretrained(path, local_files_only=True)
        self.table = model.get_input_embeddings().weight.detach().float().numpy()  # [V, D]
        del model
        self.dim = self.table.shape[1]
        self._cache: dict[str, np.ndarray] = {}

    def add(self, vocab: Iterable[str]) -> None:
        """Embed the words of ``vocab`` not seen yet (batched through the tokenizer)."""
        new = sorted({w for w in vocab if w not in self._cache})
        for i in range(0, len(new), 4096):
            chunk = new[i : i + 4096]
            ids = self.tokenizer(chunk, add_special_tokens=False)["input_ids"]
            for w, pieces in zip(chunk, ids):
                v = self.table[pieces].mean(0) if pieces else np.zeros(self.dim, np.float32)
                n = float(np.linalg.norm(v))
                self._cache[w] = (v / n if n > 0 else v).astype(np.float32)

    def matrix(self, ws: Sequence[str]) -> np.ndarray:
        """[len(ws), D] unit vectors (words embedded on first use)."""
        self.add(ws)
        if not ws:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._cache[w] for w in ws])


# ============================================================================================ features
OVERLAP_FEATURES: tuple[str, ...] = (
    "all_in_premise",
    "contiguous",
    "frac_in_premise",
    "mean_max_sim",
    "min_max_sim",
)


def _contiguous(hyp: list[str], prem: list[str]) -> bool:
    n = len(hyp)
    return n > 0 and any(prem[i : i + n] == hyp for i in range(len(prem) - n + 1))


def overlap_features(premise: str, hypothesis: str, vectors: WordVectors) -> np.ndarray:
    """The five word-overlap features of srnet.md §2.2 for one pair, [5] float32 (see :data:`OVERLAP_FEATURES`)."""
    from compresslab.data.nlu import word_overlap

    prem, hyp = words(premise), words(hypothesis)
    in_prem = set(prem)
    all_in = float(bool(hyp) and all(w in in_prem for w in hyp))
    if hyp and prem:
        sims = vectors.matrix(hyp) @ vectors.matrix(prem).T  # [h, p] cosine similarities
        best = sims.max(1)  # [h]: each hypothesis word's closest premise word
        mean_sim, min_sim = float(best.mean()), float(best.min())
    else:
        mean_sim = min_sim = 0.0
    return np.array(
        [all_in, float(_contiguous(hyp, prem)), word_overlap(premise, hypothesis), mean_sim, min_sim],
        dtype=np.float32,
    )


def claim_features(claim: str, vectors: WordVectors) -> np.ndarray:
    """Max-pooled word vectors of the claim, [D] float32 (a claim-only bias, srnet.md §2.2)."""
    m = vectors.matrix(words(claim))
    return m.max(0) if len(m) else np.zeros(vectors.dim, np.float32)


def feature_matrix(
    text_a: Sequence[str], text_b: Sequence[str], features: str, vectors: WordVectors | None
) -> np.ndarray:
    """[N, F] features of every pair."""
    check_features(features)
    if features == "word_overlap":
        from compresslab.data.nlu import word_overlap

        return np.array([[word_overlap(a, b)] for a, b in zip(text_a, text_b)], dtype=np.float32)
    vectors.add({w for t in (*text_a, *text_b) for w in words(t)})
    if features == "overlap":
        return np.stack([overlap_features(a, b, vectors) for a, b in zip(text_a, text_b)])
    return np.stack([claim_features(a, vectors) for a in text_a])


def check_features(features: object, key: str = "features") -> None:
    if features not in FEATURES:
        raise ConfigError(
            key,
            features,
            f"one of {list(FEATURES)} (overlap: MNLI/QQP word overlap; word_overlap: the overlap rate alone; "
            "claim: FEVER claim-only)",
            "use overlap for NLI/paraphrase data, claim for FEVER.",
        )


# ============================================================================================ bias-only model
@dataclass
class PredictionTable:
    """Per-example log-probabilities keyed by example id (a bias-only model's or a teacher's)."""

    ids: list[str]
    log_probs: torch.Tensor  # [N, C] float32
    kind: str = "bias"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return int(self.log_probs.shape[1])

    def index(self) -> dict[str, int]:
        return {i: n for n, i in enumerate(self.ids)}


def fit_bias_model(
    text_a: Sequence[str],
    text_b: Sequence[str],
    labels: Sequence[int],
    num_classes: int,
    features: str = "overlap",
    pretrained: str | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Train the bias-only logistic regression on the pairs and return its log-probs [N, num_classes] on them.

    Classes absent from ``labels`` get log-probability log(1e-12). The second value is metadata (features,
    training accuracy, per-class mean probability).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    check_features(features)
    y = np.asarray(labels, dtype=np.int64)
    if len(y) == 0:
        raise DataError("bias-only model", "no training examples", "a non-empty training split")
    if y.min() < 0 or y.max() >= num_classes:
        bad = int(y[(y < 0) | (y >= num_classes)][0])
        raise DataError(
            "bias-only model", f"label {bad} is outside 0..{num_classes - 1}", "the task's label set"
        )
    vectors = WordVectors(pretrained) if features != "word_overlap" else None
    x = feature_matrix(text_a, text_b, features, vectors)  # [N, F]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    clf.fit(x, y)
    out = np.full((len(y), num_classes), np.log(1e-12), dtype=np.float32)
    lp = clf.predict_log_proba(x)  # [N, classes present]
    out[:, clf.classes_] = lp
    out -= np.logaddexp.reduce(out, axis=1, keepdims=True)  # renormalise after filling absent classes
    acc = float((out.argmax(1) == y).mean())
    meta = {
        "features": features,
        "feature_names": list(OVERLAP_FEATURES)
        if features == "overlap"
        else f"max-pooled word vectors [{x.shape[1]}]",
        "train_accuracy": acc,
        "n": len(y),
    }
    log.info(f"bias-only model ({features}): training accuracy {acc:.3f} on {len(y)} examples")
    return out, meta


def save_predictions(path: str | os.PathLike, table: PredictionTable) -> Path:
    """Write a prediction file (atomically)."""
    if len(table.ids) != table.log_probs.shape[0]:
        raise ValueError(f"{len(table.ids)} ids for {table.log_probs.shape[0]} rows")
    return atomic_torch_save(
        {
            "format": FORMAT,
            "kind": table.kind,
            "ids": list(table.ids),
            "log_probs": table.log_probs.detach().float().cpu(),
            "meta": dict(table.meta),
        },
        Path(path),
    )


def load_predictions(
    path: str | os.PathLike, kind: str | None = None, key: str = "model.bias_file"
) -> PredictionTable:
    """Read a prediction file (``weights_only=True``).

    Raises:
        ConfigError: missing, unreadable, not a prediction file, or of another kind (``bias`` / ``teacher``).
    """
    path = Path(path)
    obj = load_file_setting(
        path,
        key,
        "an existing prediction file",
        "build it with `compresslab-srnet bias data=<task> --features overlap --out <file>` "
        "(or set model.bias_features to build it on first use).",
        "a prediction file written by compresslab.srnet.bias",
        "unreadable ({error}).",
    )
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ConfigError(
            key, str(path), f"a prediction file (format {FORMAT})", "rebuild it with compresslab.srnet.bias."
        )
    if kind is not None and obj["kind"] != kind:
        raise ConfigError(
            key, str(path), f"a '{kind}' prediction file", f"it holds '{obj['kind']}' predictions."
        )
    return PredictionTable(list(obj["ids"]), obj["log_probs"].float(), obj["kind"], dict(obj.get("meta", {})))


def align_predictions(
    table: PredictionTable,
    dataset: Any,
    num_classes: int,
    what: str = "bias-only log-probs",
    source: str = "",
) -> torch.Tensor:
    """The rows of ``table`` in ``dataset``'s order, [len(dataset), C].

    Raises:
        ConfigError: the table has another number of classes.
        DataError: some of the dataset's ids are missing from the table (the first few are named).
    """
    if table.num_classes != num_classes:
        raise ConfigError(
            "model.bias_file" if table.kind == "bias" else "model.teacher_run",
            source or table.kind,
            f"{what} over {num_classes} classes",
            f"the file has {table.num_classes} classes: rebuild it for this task.",
        )
    if not hasattr(dataset, "lookup"):
        raise ConfigError(
            "data.dataset",
            type(dataset).__name__,
            "an NLU dataset whose examples have ids",
            "use data=nlu/<task>.",
        )
    rows = dataset.lookup(table.index(), what, source)
    return table.log_probs[torch.as_tensor(rows, dtype=torch.long)]


def build_bias_predictions(
    text_a: Sequence[str],
    text_b: Sequence[str],
    labels: Sequence[int],
    ids: Sequence[str],
    num_classes: int,
    features: str = "overlap",
    pretrained: str | None = None,
    origin: str = "",
) -> PredictionTable:
    """Fit the bias-only model on the pairs and wrap its log-probs as a :class:`PredictionTable`."""
    lp, meta = fit_bias_model(text_a, text_b, labels, num_classes, features, pretrained)
    meta.update({"origin": origin, "pretrained": str(pretrained) if pretrained else "packaged MiniLM"})
    return PredictionTable(list(ids), torch.from_numpy(lp), "bias", meta)


def ensure_bias_file(
    path: str | os.PathLike,
    dataset: Any,
    num_classes: int,
    features: str | None,
    pretrained: str | None = None,
) -> PredictionTable:
    """Load the bias file at ``path``; when it does not exist and ``features`` is given, fit the bias-only model
    on ``dataset``'s raw pairs (a :class:`~compresslab.data.nlu.PairDataset`), save it there and return it."""
    path = Path(path)
    if path.is_file() or features is None:
        return load_predictions(path, "bias")
    pairs = dataset.pairs
    table = build_bias_predictions(
        pairs.text_a, pairs.text_b, pairs.labels, pairs.ids, num_classes, features, pretrained, pairs.origin
    )
    save_predictions(path, table)
    log.info(f"wrote bias-only predictions to {path}")
    return table


# ============================================================================================ teacher
@torch.no_grad()
def predict_log_probs(
    net: torch.nn.Module, dataset: Any, batch_size: int = 128, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """Log-softmax outputs of ``net`` (a :class:`~compresslab.srnet.nets.PairClassifier`) over ``dataset``, [N, C]."""
    from torch.utils.data import DataLoader

    net = net.to(device).eval()
    out = []
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        logits = net(
            batch["input_ids"].to(device),
            batch["attention_mask"].to(device),
            batch["token_type_ids"].to(device),
        )
        out.append(torch.log_softmax(logits.float(), -1).cpu())
    return torch.cat(out) if out else torch.zeros(0, 0)


def teacher_prediction_file(
    run_dir: str | os.PathLike, dataset: Any, device: str | torch.device = "cpu", batch_size: int = 128
) -> PredictionTable:
    """The train-set predictions of a CE fine-tuned compresslab run (``<run_dir>/train_log_probs.pt``): loaded
    when present and covering ``dataset``'s ids, else computed with the run's best checkpoint and saved there."""
    from compresslab.models.distill import load_run_net

    run_dir = Path(run_dir)
    path = run_dir / "train_log_probs.pt"
    if path.is_file():
        table = load_predictions(path, "teacher", key="model.teacher_run")
        index = table.index()
        if all(i in index for i in dataset.ids):
            return table
        log.info(f"{path} does not cover this training split; recomputing")
    if not (run_dir / "config_resolved.yaml").is_file():
        raise ConfigError(
            "model.teacher_run",
            str(run_dir),
            "a finished CE fine-tuning run (config_resolved.yaml + checkpoints/)",
            "run the srnet finetune experiment with model.loss=ce first.",
        )
    net = load_run_net(run_dir)
    lp = predict_log_probs(net, dataset, batch_size, device)
    table = PredictionTable(list(dataset.ids), lp, "teacher", {"run": str(run_dir)})
    save_predictions(path, table)
    log.info(f"wrote teacher train-set predictions to {path}")
    return table


__all__ = [
    "FEATURES",
    "OVERLAP_FEATURES",
    "PredictionTable",
    "WordVectors",
    "align_predictions",
    "build_bias_predictions",
    "claim_features",
    "ensure_bias_file",
    "feature_matrix",
    "fit_bias_model",
    "load_predictions",
    "overlap_features",
    "predict_log_probs",
    "save_predictions",
    "teacher_prediction_file",
]
