"""Sentence-pair NLU data: the SRNet paper's eight datasets (srnet.md §4) and an embedded synthetic NLI task.

One job per module:

* :mod:`~compresslab.data.nlu.formats` — raw pairs (:class:`TextPairs`), label sets, the tsv/jsonl layouts and
  their validating readers;
* :mod:`~compresslab.data.nlu.encoding` — the tokenizer (default: the packaged MiniLM), the on-disk token cache
  and the dataset of encoded pairs (:class:`PairDataset`);
* :mod:`~compresslab.data.nlu.source` — :class:`TextPairSource`, what every pair source declares (labels,
  metrics, prediction maps, analysis cells), and the prediction maps themselves;
* :mod:`~compresslab.data.nlu.sources` — the file-backed datasets (MNLI, HANS, QQP, PAWS, FEVER, FEVER-Symmetric);
* :mod:`~compresslab.data.nlu.synthetic` — the embedded NLI task with a lexical-overlap shortcut.

Everything public is importable from ``compresslab.data.nlu`` (configs name ``compresslab.data.nlu.<Class>``).
"""

from compresslab.data.nlu.encoding import (
    MINILM_PACKAGE,
    PairDataset,
    encode_pairs,
    load_tokenizer,
    minilm_path,
    tokenizer_fingerprint,
)
from compresslab.data.nlu.formats import (
    FEVER_LABELS,
    HANS_LABELS,
    MNLI_LABELS,
    QQP_LABELS,
    JsonlFormat,
    TextPairs,
    TsvFormat,
    read_jsonl_pairs,
    read_tsv_pairs,
)
from compresslab.data.nlu.source import (
    METRIC_NAMES,
    PREDICTION_MAPS,
    TextPairSource,
    hans_map_predictions,
)
from compresslab.data.nlu.sources import FEVER, HANS, MNLI, PAWS, QQP, FeverSymm, NLUSource
from compresslab.data.nlu.synthetic import CELL_NAMES, SyntheticNLI, synthetic_pair, word_overlap

__all__ = [
    "CELL_NAMES",
    "FEVER",
    "FEVER_LABELS",
    "HANS",
    "HANS_LABELS",
    "METRIC_NAMES",
    "MINILM_PACKAGE",
    "MNLI",
    "MNLI_LABELS",
    "PAWS",
    "PREDICTION_MAPS",
    "QQP",
    "QQP_LABELS",
    "FeverSymm",
    "JsonlFormat",
    "NLUSource",
    "PairDataset",
    "SyntheticNLI",
    "TextPairSource",
    "TextPairs",
    "TsvFormat",
    "encode_pairs",
    "hans_map_predictions",
    "load_tokenizer",
    "minilm_path",
    "read_jsonl_pairs",
    "read_tsv_pairs",
    "synthetic_pair",
    "tokenizer_fingerprint",
    "word_overlap",
]
