"""Raw sentence pairs and the on-disk formats of the SRNet datasets: label sets, the tsv and jsonl layouts, and the
two validating readers.

A reader validates while it reads: a malformed line, a missing column or field, a value of the wrong type or an
unknown label raises :class:`~compresslab.utils.errors.DataError` with the file, the 1-based line number, the bad
value and what was expected (and, where a known other release of the dataset was given, which file is wanted and
where it comes from).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compresslab.utils.errors import DataError
from compresslab.utils.logging import get_logger

log = get_logger(__name__)

MNLI_LABELS: tuple[str, ...] = ("contradiction", "entailment", "neutral")
HANS_LABELS: tuple[str, ...] = ("non-entailment", "entailment")
QQP_LABELS: tuple[str, ...] = ("0", "1")
FEVER_LABELS: tuple[str, ...] = ("SUPPORTS", "REFUTES", "NOT ENOUGH INFO")


# ================================================================================================ raw pairs
@dataclass
class TextPairs:
    """The raw examples of one split, in file order.

    Attributes:
        ids: stable string id of each example (the file's own id field; a repeated id gets ``#2``, ``#3``…
            in order of appearance so ids are unique within the split).
        text_a: first text (premise / question 1 / claim).
        text_b: second text (hypothesis / question 2 / evidence).
        labels: class index of each example, in the source's label order.
        origin: the file (or generator) the examples come from, for messages.
        meta: optional per-example columns (e.g. HANS' heuristic, the synthetic task's construction).
        cells: optional per-example index into ``cell_names``: the analysis cell of the example (the synthetic
            task's label × overlap level), for per-cell accuracy.
        cell_names: the names of the cells ``cells`` indexes (empty when the split has no cells).
    """

    ids: list[str]
    text_a: list[str]
    text_b: list[str]
    labels: list[int]
    origin: str = ""
    meta: dict[str, list[Any]] = field(default_factory=dict)
    cells: list[int] | None = None
    cell_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.labels)
        columns = {"ids": self.ids, "text_a": self.text_a, "text_b": self.text_b, **self.meta}
        if self.cells is not None:
            columns["cells"] = self.cells
            bad = [c for c in self.cells if not 0 <= c < len(self.cell_names)]
            if bad:
                raise ValueError(
                    f"{self.origin}: cell ids {bad[:5]} outside the {len(self.cell_names)} cell names"
                )
        wrong = {k: len(v) for k, v in columns.items() if len(v) != n}
        if wrong:
            raise ValueError(f"{self.origin}: per-example columns {wrong} do not match the {n} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def select(self, keep: Sequence[int]) -> TextPairs:
        """The examples at positions ``keep``, in that order (every per-example column follows)."""
        return TextPairs(
            [self.ids[i] for i in keep],
            [self.text_a[i] for i in keep],
            [self.text_b[i] for i in keep],
            [self.labels[i] for i in keep],
            self.origin,
            {k: [v[i] for i in keep] for k, v in self.meta.items()},
            None if self.cells is None else [self.cells[i] for i in keep],
            self.cell_names,
        )

    def content_hash(self) -> str:
        """sha256 over the texts (in order): the part of the tokenisation cache key that names the data."""
        h = hashlib.sha256()
        step = 8192
        for i in range(0, len(self), step):
            chunk = "\x1e".join(
                f"{a}\x1f{b}" for a, b in zip(self.text_a[i : i + step], self.text_b[i : i + step])
            )
            h.update(chunk.encode("utf-8"))
            h.update(b"\x1d")
        return h.hexdigest()


def unique_ids(raw: Sequence[str]) -> list[str]:
    """Make ids unique in order of appearance: the second ``x`` becomes ``x#2``, the third ``x#3``."""
    seen: dict[str, int] = {}
    out = []
    for r in raw:
        k = seen.get(r, 0) + 1
        seen[r] = k
        out.append(r if k == 1 else f"{r}#{k}")
    return out


# ================================================================================================ formats
@dataclass(frozen=True)
class TsvFormat:
    """A tab-separated file with a header line; columns are found by their header names.

    Fields are split on tabs only (no quote handling: GLUE files contain unbalanced quotes).
    """

    description: str
    id_col: str
    a_col: str
    b_col: str
    label_col: str
    labels: tuple[str, ...]
    meta_cols: tuple[str, ...] = ()


@dataclass(frozen=True)
class JsonlFormat:
    """One JSON object per line; for each role the first of its candidate field names present is used.

    ``not_this_release`` names a look-alike release of the same dataset that is *not* this format, and where the
    expected files come from: it is added to the error when a text field holds a list (the shape of that other
    release) instead of a string.
    """

    description: str
    a_keys: tuple[str, ...]
    b_keys: tuple[str, ...]
    label_keys: tuple[str, ...]
    labels: tuple[str, ...]
    id_key: str = "id"
    not_this_release: str = ""


MNLI_TSV = TsvFormat(
    "GLUE MNLI tsv: index, promptID, pairID, genre, 4 parse columns, sentence1, sentence2, "
    "[label1..label5,] gold_label",
    "pairID",
    "sentence1",
    "sentence2",
    "gold_label",
    MNLI_LABELS,
    ("genre",),
)
HANS_TXT = TsvFormat(
    "HANS heuristics tsv: gold_label, 4 parse columns, sentence1, sentence2, pairID, heuristic, subcase, "
    "template",
    "pairID",
    "sentence1",
    "sentence2",
    "gold_label",
    HANS_LABELS,
    ("heuristic", "subcase"),
)
QQP_TSV = TsvFormat(
    "GLUE QQP tsv: id, qid1, qid2, question1, question2, is_duplicate",
    "id",
    "question1",
    "question2",
    "is_duplicate",
    QQP_LABELS,
)
PAWS_TSV = TsvFormat(
    "PAWS tsv: id, sentence1, sentence2, label", "id", "sentence1", "sentence2", "label", QQP_LABELS
)
#: where the processed FEVER pairs come from (Schuster et al. 2019, the FEVER-Symmetric authors)
FEVER_PROCESSED_SOURCE = (
    "the processed FEVER claim-evidence pairs of Schuster et al. 2019, fever.train.jsonl and fever.dev.jsonl, "
    "linked from the README of github.com/TalSchuster/FeverSymmetric (one claim and one evidence sentence per "
    "line: {id, claim, evidence, gold_label})"
)
FEVER_JSONL = JsonlFormat(
    "FEVER jsonl as processed by Schuster et al.: one claim-evidence pair per line, "
    "{id, claim, evidence (the evidence sentence's text), gold_label|label}",
    ("claim",),
    ("evidence",),
    ("gold_label", "label"),
    FEVER_LABELS,
    not_this_release=(
        "this looks like the FEVER 1.0 original release (train.jsonl / shared_task_dev.jsonl from fever.ai, whose "
        "'evidence' is a list of [annotation id, evidence id, Wikipedia page, sentence number] sets without the "
        "sentence text); expected instead " + FEVER_PROCESSED_SOURCE
    ),
)
SYMM1_JSONL = JsonlFormat(
    "FEVER-Symmetric v1 jsonl: {id, claim, evidence_sentence, label} with label SUPPORTS|REFUTES",
    ("claim",),
    ("evidence_sentence", "evidence"),
    ("label", "gold_label"),
    FEVER_LABELS[:2],
)
SYMM2_JSONL = JsonlFormat(
    "FEVER-Symmetric v2 jsonl: {id, claim, evidence, gold_label, label, ...} with gold_label SUPPORTS|REFUTES",
    ("claim",),
    ("evidence",),
    ("gold_label", "label"),
    FEVER_LABELS[:2],
)


# ================================================================================================ readers
def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(1-based line number, text without the line ending)``; bytes are decoded line by line so a
    decoding error names its line."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(
                    path, f"line {lineno} is not valid UTF-8 ({e.reason} at byte {e.start})", "UTF-8 text"
                ) from None
            if lineno == 1:
                text = text.lstrip("\ufeff")
            yield lineno, text.rstrip("\r\n")


def read_tsv_pairs(path: str | os.PathLike, fmt: TsvFormat, skip_malformed: bool = False) -> TextPairs:
    """Read and validate a headed tsv file into :class:`TextPairs`.

    Blank lines are ignored. Every other line must have as many fields as the header and a label of
    ``fmt.labels``.

    Args:
        path: the file.
        fmt: its columns and label set.
        skip_malformed: skip lines with the wrong number of fields (logged with their line numbers) instead
            of failing; unknown labels still fail.
    """
    path = Path(path)
    lines = _lines(path)
    try:
        _, head = next(lines)
    except StopIteration:
        raise DataError(
            path, "file is empty", f"a header line, then one example per line ({fmt.description})"
        ) from None
    header = head.split("\t")
    wanted = [fmt.id_col, fmt.a_col, fmt.b_col, fmt.label_col, *fmt.meta_cols]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise DataError(path, f"line 1 (header) lacks column(s) {missing}; it has {header}", fmt.description)
    col = {c: header.index(c) for c in wanted}
    label_of = {name: i for i, name in enumerate(fmt.labels)}
    ids, a, b, y = [], [], [], []
    meta: dict[str, list[Any]] = {c: [] for c in fmt.meta_cols}
    skipped: list[int] = []
    for lineno, text in lines:
        if not text.strip():
            continue
        fields = text.split("\t")
        if len(fields) != len(header):
            if skip_malformed:
                skipped.append(lineno)
                continue
            raise DataError(
                path,
                f"line {lineno} has {len(fields)} tab-separated fields, expected {len(header)} as in the header "
                f"(line starts {text[:60]!r})",
                fmt.description,
            )
        raw_label = fields[col[fmt.label_col]]
        if raw_label not in label_of:
            raise DataError(
                path,
                f"line {lineno}: unknown label {raw_label!r} in column '{fmt.label_col}'",
                f"one of {list(fmt.labels)} ({fmt.description})",
            )
        ids.append(fields[col[fmt.id_col]])
        a.append(fields[col[fmt.a_col]])
        b.append(fields[col[fmt.b_col]])
        y.append(label_of[raw_label])
        for c in fmt.meta_cols:
            meta[c].append(fields[col[c]])
    if skipped:
        log.warning(
            f"{path}: skipped {len(skipped)} malformed line(s) (wrong number of fields), e.g. lines {skipped[:5]}"
        )
    if not y:
        raise DataError(path, "no examples after the header", fmt.description)
    return TextPairs(unique_ids(ids), a, b, y, str(path), meta)


def read_jsonl_pairs(path: str | os.PathLike, fmt: JsonlFormat) -> TextPairs:
    """Read and validate a jsonl file (one object per line, blank lines ignored) into :class:`TextPairs`.

    The id is the ``fmt.id_key`` field when present, else ``L<line number>``.
    """
    path = Path(path)
    label_of = {name: i for i, name in enumerate(fmt.labels)}
    ids, a, b, y = [], [], [], []

    def pick(obj: dict, keys: tuple[str, ...], lineno: int, role: str) -> tuple[Any, str]:
        for k in keys:
            if k in obj:
                return obj[k], k
        raise DataError(
            path,
            f"line {lineno}: no {role} field (looked for {list(keys)}; the object has {sorted(obj)})",
            fmt.description,
        )

    for lineno, text in _lines(path):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(
                path, f"line {lineno} is not valid JSON ({e.msg} at column {e.colno})", fmt.description
            ) from None
        if not isinstance(obj, dict):
            raise DataError(
                path, f"line {lineno} is a JSON {type(obj).__name__}, not an object", fmt.description
            )
        values = []
        for keys, role in ((fmt.a_keys, "first text"), (fmt.b_keys, "second text")):
            v, k = pick(obj, keys, lineno, role)
            if not isinstance(v, str):
                problem = (
                    f"line {lineno}: field '{k}' is a {type(v).__name__} ({_short(v)}), expected a string"
                )
                if isinstance(v, list) and fmt.not_this_release:
                    problem += f"; {fmt.not_this_release}"
                raise DataError(path, problem, fmt.description)
            values.append(v)
        raw_label, k = pick(obj, fmt.label_keys, lineno, "label")
        if not isinstance(raw_label, str) or raw_label not in label_of:
            raise DataError(
                path,
                f"line {lineno}: unknown label {raw_label!r} in field '{k}'",
                f"one of {list(fmt.labels)} ({fmt.description})",
            )
        ids.append(str(obj[fmt.id_key]) if fmt.id_key in obj else f"L{lineno}")
        a.append(values[0])
        b.append(values[1])
        y.append(label_of[raw_label])
    if not y:
        raise DataError(path, "no examples in the file", fmt.description)
    return TextPairs(unique_ids(ids), a, b, y, str(path))


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value)
    return text if len(text) <= width else text[: width - 3] + "..."
