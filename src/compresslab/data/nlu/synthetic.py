"""An embedded NLI task where a robust rule competes with a lexical-overlap shortcut (the SRNet reduced scale).

Premise: ``the N1 [who INT' OP' it] OP that the N2 INT V the N3 [in the P]``; hypothesis: the embedded clause
``N2 V N3``. The label follows from the *main* operator ``OP`` (the one governing ``that``) and the interrupter
``INT`` of the embedded clause only:

==================================  ===============  ==========================================
main operator                       interrupter      label
==================================  ===============  ==========================================
factive (knew, realized, proved …)  positive (also)  entailment — a factive presupposes its clause
factive                             negative (never) contradiction — the clause is asserted false
non-factive (thought, hoped …)      either           neutral — nothing follows about the clause
==================================  ===============  ==========================================

A *distractor* relative clause ``who INT' OP' it`` on the subject carries an operator of the other class and an
interrupter of the other polarity, so a premise with a distractor holds exactly one factive and one non-factive
operator and one positive and one negative interrupter, whatever its label: no word says the label, only the
structure (which operator governs ``that``, which interrupter sits in the embedded clause) does. Without a
distractor the words alone suffice; ``distractor_rate`` sets the difficulty (with the operator vocabulary
``n_operators``).

The shortcut: a *high-overlap* hypothesis copies the clause's words (``the N2 V the N3 [in the P]``, word overlap
1, never contiguous in the premise because ``INT`` always interrupts it); a *low-overlap* one uses lexicon synonyms
(``a N2' V' a N3'``, overlap 0). The hypothesis is built the same way for every label, so the overlap level is
the only thing it says about the label. An example is *bias-aligned* when ``high overlap ⇔ entailment``; exactly
``round(bias · count)`` examples of each label are aligned.

``rule="agreement"`` (an alternative, not the default) decides a factive premise by agreement instead: the
hypothesis may carry a negation (``the N2 NEG V the N3`` with the distractor's negative word, overlap still 1 and
never contiguous; low overlap ``a N2' did not V' a N3'``), entailment when its polarity agrees with the clause's,
contradiction when not; clause polarity and hypothesis negation are half / half in every label, so no negative
word marks contradiction (with ``interrupter`` a negative clause is never entailment, which a model learns from the
majority pairs alone). Its rule is an XOR of two polarities: CE on unbiased data did not learn it at the reduced
budget (MiniLM, 2,000 pairs: ID dev 66.7 % after 2 of 3 epochs, seed 1), so it is not the reduced task.

Splits: ``train``, ``val``, ``test`` (ID, bias ``bias`` / ``eval_bias``); ``test_<ood_name>`` HANS-like (every
pair high-overlap, 2-way labels, scored through ``mnli_to_hans`` when the task is 3-way): half entailment, half
non-entailment, and the non-entailment half is *neutral with a positive interrupter* — a non-factive operator over
the same kind of clause the entailment half has (HANS' own non-entailed embeddings, ``the lawyer believed that the
doctor saw the judge``; under ``rule="agreement"`` both halves mix the polarities alike). The two halves then hold
the same interrupters at the same rates (negative words only in distractor clauses, at the same rate in both), so
only the operator-class rule separates them. A contradiction there would be marked by its negative interrupter, a
cue a shortcut-trained model reads without the rule: task version 1 had a quarter contradictions and a quarter
neutral pairs with a negative interrupter, where the overlap shortcut plus that cue alone score 87.5 %.
``test_<anti_name>`` anti-aligned with the shortcut (entailment always low overlap, contradiction and neutral
always high; the task's own labels, 3-way composition as in training). Every example carries its analysis cell,
label × overlap level (:data:`CELL_NAMES`), and ``pairs.meta`` its construction (``kind`` E/C/N,
``high_overlap``, ``distractor``, ``operator``, ``interrupter``). The data are a deterministic function of
``seed``, the sizes and :data:`TASK_VERSION`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from compresslab.data.base import Splits
from compresslab.data.nlu.encoding import load_tokenizer
from compresslab.data.nlu.formats import HANS_LABELS, MNLI_LABELS, TextPairs
from compresslab.data.nlu.source import TextPairSource, check_split_name
from compresslab.utils.errors import ConfigError

Kind = Literal["E", "C", "N"]

# ================================================================================================ lexicon
#: factive operators: ``OP that p`` presupposes p
FACTIVE: tuple[str, ...] = (
    "knew", "realized", "noticed", "proved", "discovered", "remembered", "regretted", "learned", "revealed",
    "confirmed", "recognized", "found", "showed", "established", "demonstrated", "understood", "acknowledged",
    "admitted", "verified", "resented", "forgot", "perceived", "recalled", "detected",
)  # fmt: skip
#: non-factive operators: ``OP that p`` says nothing about p
NON_FACTIVE: tuple[str, ...] = (
    "thought", "hoped", "claimed", "doubted", "believed", "suspected", "assumed", "guessed", "imagined",
    "feared", "suggested", "said", "alleged", "supposed", "wished", "predicted", "argued", "insisted",
    "speculated", "pretended", "dreamed", "expected", "presumed", "asserted",
)  # fmt: skip
#: interrupters that keep the clause true (positive) or make it false (negative)
POSITIVE: tuple[str, ...] = ("also", "once", "really", "recently", "finally", "already", "indeed", "truly")
NEGATIVE: tuple[str, ...] = ("never", "no longer", "at no time")
#: (word, synonym): the premise uses the word, a low-overlap hypothesis the synonym
NOUNS: tuple[tuple[str, str], ...] = (
    ("doctor", "physician"), ("lawyer", "attorney"), ("student", "pupil"), ("teacher", "instructor"),
    ("child", "kid"), ("singer", "vocalist"), ("pilot", "aviator"), ("chef", "cook"), ("author", "writer"),
    ("boss", "supervisor"), ("worker", "employee"), ("customer", "client"), ("friend", "companion"),
    ("judge", "magistrate"), ("soldier", "warrior"), ("painter", "artist"), ("sailor", "mariner"),
    ("scientist", "researcher"), ("actor", "performer"), ("king", "monarch"), ("thief", "robber"),
    ("merchant", "trader"),
)  # fmt: skip
VERBS: tuple[tuple[str, str], ...] = (
    ("helped", "assisted"), ("saw", "spotted"), ("called", "phoned"), ("met", "encountered"),
    ("chased", "pursued"), ("hired", "employed"), ("watched", "observed"), ("followed", "trailed"),
    ("greeted", "welcomed"), ("paid", "compensated"), ("taught", "tutored"), ("warned", "alerted"),
    ("fought", "battled"), ("hugged", "embraced"), ("ignored", "disregarded"), ("supported", "backed"),
    ("avoided", "evaded"), ("attacked", "assaulted"), ("rescued", "saved"), ("invited", "summoned"),
)  # fmt: skip
#: base form of each verb synonym (a negated low-overlap hypothesis: ``a N2' did not V' a N3'``)
SYNONYM_BASE: dict[str, str] = {
    "assisted": "assist", "spotted": "spot", "phoned": "phone", "encountered": "encounter", "pursued": "pursue",
    "employed": "employ", "observed": "observe", "trailed": "trail", "welcomed": "welcome",
    "compensated": "compensate", "tutored": "tutor", "alerted": "alert", "battled": "battle",
    "embraced": "embrace", "disregarded": "disregard", "backed": "back", "evaded": "evade",
    "assaulted": "assault", "saved": "save", "summoned": "summon",
}  # fmt: skip
PLACES: tuple[str, ...] = (
    "park", "garden", "office", "kitchen", "station", "library", "market", "museum", "hospital", "school",
    "harbor", "village",
)  # fmt: skip
#: the function words of the premise template
TEMPLATE_WORDS: tuple[str, ...] = ("the", "who", "it", "that", "in")

#: the task definition generated; a config names it (``data.dataset.task_version``) so that runs of an older
#: definition never share an identity with current ones. 1: the HANS-like non-entailment half was half
#: contradiction (negative interrupter) and half neutral (either polarity); 2: it is all neutral with a positive
#: interrupter (see the module docstring).
TASK_VERSION = 2

#: how a factive premise's label is decided (see the module docstring)
RULES: tuple[str, ...] = ("interrupter", "agreement")
KINDS: tuple[Kind, ...] = ("C", "E", "N")  # MNLI's label order
KIND_NAMES: dict[str, str] = {"C": "contradiction", "E": "entailment", "N": "neutral"}
#: the analysis cells, label × overlap level; cell id = 2 · (index of the kind in C, E, N) + (0 high, 1 low)
CELL_NAMES: tuple[str, ...] = tuple(f"{KIND_NAMES[k]}/{lvl}" for k in KINDS for lvl in ("high", "low"))


def cell_of(kind: str, high_overlap: bool) -> int:
    """The cell id of an example (an index into :data:`CELL_NAMES`)."""
    return 2 * KINDS.index(kind) + (0 if high_overlap else 1)  # type: ignore[arg-type]


_WORD_RE = re.compile(r"[a-z0-9']+")


def word_overlap(premise: str, hypothesis: str) -> float:
    """Fraction of the hypothesis' words (lower-cased, punctuation stripped) that occur in the premise; 0.0 for
    a hypothesis without words. The lexical-overlap feature of HANS-style bias."""
    hyp = _WORD_RE.findall(hypothesis.lower())
    if not hyp:
        return 0.0
    prem = set(_WORD_RE.findall(premise.lower()))
    return sum(w in prem for w in hyp) / len(hyp)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


# ================================================================================================ one pair
@dataclass(frozen=True)
class PairPlan:
    """What one example is made of (everything but the random word choices)."""

    kind: Kind
    high_overlap: bool
    distractor: bool
    positive: bool  # polarity of the embedded clause's interrupter
    negated_hypothesis: bool = False  # the hypothesis carries a negation (rule "agreement" only)


def synthetic_pair(
    rng: np.random.Generator, plan: PairPlan, n_operators: int = 24, rule: str = "interrupter"
) -> tuple[str, str, str, str]:
    """One premise/hypothesis pair following ``plan`` (see the module docstring).

    Returns:
        ``(premise, hypothesis, main operator, embedded interrupter)``.
    """
    factive = plan.kind in ("E", "C")
    main_ops, other_ops = (FACTIVE, NON_FACTIVE) if factive else (NON_FACTIVE, FACTIVE)
    op = main_ops[rng.integers(n_operators)]
    ints, other_ints = (POSITIVE, NEGATIVE) if plan.positive else (NEGATIVE, POSITIVE)
    interrupter = ints[rng.integers(len(ints))]
    i1, i2, i3 = rng.choice(len(NOUNS), size=3, replace=False)
    n1, n2, n3 = NOUNS[i1], NOUNS[i2], NOUNS[i3]
    verb = VERBS[rng.integers(len(VERBS))]
    place = PLACES[rng.integers(len(PLACES))] if rng.random() < 0.5 else None
    subject = f"the {n1[0]}"
    negatives = [interrupter] if not plan.positive else []  # negative interrupters the premise holds
    if rule == "agreement":  # the distractor always negative, another word than the clause's
        other_ints = tuple(w for w in NEGATIVE if w != interrupter)
    if plan.distractor:  # the other operator class and the other polarity: the words balance out
        d_int = other_ints[rng.integers(len(other_ints))]
        subject += f" who {d_int} {other_ops[rng.integers(n_operators)]} it"
        negatives = [d_int] if rule == "agreement" else negatives + ([d_int] if plan.positive else [])
    where = f" in the {place}" if place else ""
    premise = f"{subject} {op} that the {n2[0]} {interrupter} {verb[0]} the {n3[0]}{where}"
    if plan.high_overlap:
        keep_place = place is not None and rng.random() < 0.5
        neg = ""
        if plan.negated_hypothesis:  # a negative word of the premise (overlap stays 1 with a distractor)
            pool = negatives or list(NEGATIVE)
            neg = f" {pool[rng.integers(len(pool))]}"
        hypothesis = f"the {n2[0]}{neg} {verb[0]} the {n3[0]}" + (where if keep_place else "")
    elif plan.negated_hypothesis:  # words outside the premise lexicon: overlap stays 0
        base = SYNONYM_BASE[verb[1]]
        hypothesis = f"{_article(n2[1])} {n2[1]} did not {base} {_article(n3[1])} {n3[1]}"
    else:
        hypothesis = f"{_article(n2[1])} {n2[1]} {verb[1]} {_article(n3[1])} {n3[1]}"
    return premise, hypothesis, op, interrupter


# ================================================================================================ source
class SyntheticNLI(TextPairSource):
    """The embedded NLI task of the module docstring, as a text-pair source.

    Labels: ``num_labels=3`` uses MNLI's order (contradiction 0, entailment 1, neutral 2; balanced);
    ``num_labels=2`` uses HANS' order for every split (half entailment, non-entailment split evenly between
    contradiction and neutral). The HANS-like split always has 2-way labels, and its non-entailment half is all
    neutral (positive interrupters under ``rule="interrupter"``).

    Args:
        num_labels: 3 (MNLI-like) or 2 (entailment vs non-entailment).
        n_train, n_val, n_test: ID split sizes.
        n_ood: size of the HANS-like split ``test_<ood_name>``.
        n_anti: size of the anti-aligned split ``test_<anti_name>``.
        bias: fraction of bias-aligned (high overlap ⇔ entailment) training examples of each label, in [0, 1].
        eval_bias: the same for ``val``/``test``; ``None`` = ``bias`` (an ID dev set shares the train bias).
        distractor_rate: fraction of the examples of each label × overlap cell whose subject carries the
            distractor relative clause (1 = no word is informative, only structure).
        n_operators: operators per class used (1..24), the vocabulary the rule has to learn.
        seed: generator seed (fixed across training seeds: every run sees the same data).
        tokenizer, max_length, cache_dir: see :class:`TextPairSource` (loading fails, naming the length needed,
            if ``max_length`` would truncate a pair).
        ood_name, anti_name: names of the two OOD splits (``test_<name>``).
        task_version: the task definition the config was written for; must be :data:`TASK_VERSION` (an older
            one is no longer generated: refused, naming what changed).
    """

    name: ClassVar[str] = "synthetic_nli"
    source_hint: ClassVar[str] = "generated in memory; nothing to download"
    #: the splits :meth:`read` generates, in order (their index seeds their generator)
    SPLITS: ClassVar[tuple[str, ...]] = ("train", "val", "test", "ood", "anti")

    def __init__(
        self,
        num_labels: int = 3,
        n_train: int = 2000,
        n_val: int = 300,
        n_test: int = 300,
        n_ood: int = 600,
        n_anti: int = 300,
        bias: float = 0.9,
        eval_bias: float | None = None,
        distractor_rate: float = 1.0,
        n_operators: int = 24,
        rule: str = "interrupter",
        seed: int = 0,
        ood_name: str = "hans_like",
        anti_name: str = "anti_aligned",
        task_version: int = TASK_VERSION,
        *,
        tokenizer: str | None = None,
        max_length: int = 32,
        cache_dir: str | None = None,
    ) -> None:
        super().__init__(tokenizer=tokenizer, max_length=max_length, cache_dir=cache_dir)
        if num_labels not in (2, 3):
            raise ConfigError(
                "data.dataset.num_labels", num_labels, "2 or 3", "set num_labels=3 (MNLI-like)."
            )
        sizes = {"n_train": n_train, "n_val": n_val, "n_test": n_test, "n_ood": n_ood, "n_anti": n_anti}
        for key, n in sizes.items():
            if isinstance(n, bool) or not isinstance(n, int) or n < 12:
                raise ConfigError(f"data.dataset.{key}", n, "an integer >= 12", f"set {key}=300.")
        for key, b in (("bias", bias), ("eval_bias", eval_bias), ("distractor_rate", distractor_rate)):
            if b is not None and (
                isinstance(b, bool) or not isinstance(b, int | float) or not 0.0 <= b <= 1.0
            ):
                raise ConfigError(f"data.dataset.{key}", b, "a fraction in [0, 1]", f"set {key}=0.9.")
        if (
            isinstance(n_operators, bool)
            or not isinstance(n_operators, int)
            or not 1 <= n_operators <= len(FACTIVE)
        ):
            raise ConfigError(
                "data.dataset.n_operators",
                n_operators,
                f"an integer in [1, {len(FACTIVE)}]",
                "set n_operators=24.",
            )
        if task_version != TASK_VERSION:
            raise ConfigError(
                "data.dataset.task_version", task_version, f"{TASK_VERSION} (the task this code generates)",
                f"set task_version={TASK_VERSION}; version 1's HANS-like split (a quarter contradictions, marked by "
                "their negative interrupter) is no longer generated: its runs measured that cue, not the rule.",
            )  # fmt: skip
        if rule not in RULES:
            raise ConfigError("data.dataset.rule", rule, f"one of {list(RULES)}", "set rule=agreement.")
        check_split_name("data.dataset.ood_name", ood_name)
        check_split_name("data.dataset.anti_name", anti_name)
        if ood_name == anti_name:
            raise ConfigError(
                "data.dataset.anti_name", anti_name, f"a name other than ood_name ({ood_name!r})",
                "keep the defaults hans_like and anti_aligned.",
            )  # fmt: skip
        self.num_labels, self.seed = num_labels, seed
        self.sizes = {"train": n_train, "val": n_val, "test": n_test, "ood": n_ood, "anti": n_anti}
        self.bias, self.eval_bias = float(bias), None if eval_bias is None else float(eval_bias)
        self.distractor_rate, self.n_operators, self.rule = float(distractor_rate), n_operators, rule
        self.ood_name, self.anti_name = ood_name, anti_name
        self.task_version = task_version

    # ------------------------------------------------------------------------------------------ declared
    @property
    def label_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return MNLI_LABELS if self.num_labels == 3 else HANS_LABELS

    @property
    def split_names(self) -> dict[str, str]:
        """Split served by :meth:`load` → the generator split of :meth:`read`."""
        return {
            "val": "val",
            "test": "test",
            f"test_{self.ood_name}": "ood",
            f"test_{self.anti_name}": "anti",
        }

    @property
    def metrics(self) -> dict[str, list[str]]:
        return {name: ["acc"] for name in self.split_names}

    @property
    def prediction_maps(self) -> dict[str, str]:
        return {f"test_{self.ood_name}": "mnli_to_hans"} if self.num_labels == 3 else {}

    @property
    def cell_names(self) -> dict[str, tuple[str, ...]]:
        return {name: CELL_NAMES for name in ["train", *self.split_names]}

    def check(self) -> None:
        self.check_tokenizer()

    # ------------------------------------------------------------------------------------------ generate
    def _counts(self, split: str) -> tuple[dict[Kind, int], dict[Kind, int]]:
        """Examples per kind, and the class index of each kind, for ``split``."""
        n = self.sizes[split]
        if split == "ood":  # HANS-like: half entailment, half non-entailment, all of it neutral
            return {"E": n - n // 2, "N": n // 2}, {"E": 1, "N": 0}
        if self.num_labels == 2:  # half entailment; non-entailment half contradiction, half neutral
            return {"E": n - n // 2, "C": n // 4, "N": n // 2 - n // 4}, {"E": 1, "C": 0, "N": 0}
        thirds = {"C": n // 3 + (n % 3 > 1), "E": n // 3 + (n % 3 > 0), "N": n // 3}
        return thirds, {"C": 0, "E": 1, "N": 2}

    def _aligned_fraction(self, split: str) -> float:
        """Fraction of each kind that is bias-aligned (high overlap ⇔ entailment) in ``split``."""
        if split == "train":
            return float(self.bias)
        if split in ("val", "test"):
            return float(self.bias if self.eval_bias is None else self.eval_bias)
        return 0.0  # anti: every example against the shortcut (ood does not use it: every pair high overlap)

    def plans(self, split: str) -> tuple[list[PairPlan], dict[Kind, int]]:
        """The shuffled construction plan of ``split`` and the class index of each kind: exact counts per
        kind, per overlap level (``bias``), per distractor presence (``distractor_rate``) and, for neutral, per
        interrupter polarity (half positive; all positive in the HANS-like split, like its entailment half)."""
        counts, label_of = self._counts(split)
        aligned = self._aligned_fraction(split)
        plans: list[PairPlan] = []
        for kind, m in counts.items():
            if split == "ood":
                levels = [True] * m
            else:
                k = round(aligned * m)  # aligned: entailment high overlap, the others low
                levels = [kind == "E"] * k + [kind != "E"] * (m - k)
            for high in (True, False):  # distractors at the same rate in every label × overlap cell
                cell = [h for h in levels if h == high]
                d = round(self.distractor_rate * len(cell))
                flags = [True] * d + [False] * (len(cell) - d)
                for j, distractor in enumerate(flags):
                    if self.rule == "agreement":  # clause and hypothesis polarity: half / half everywhere
                        positive = j % 2 == 0
                        negated = {"E": not positive, "C": positive}.get(kind, (j // 2) % 2 == 0)
                        plans.append(PairPlan(kind, high, distractor, positive, negated))
                    else:
                        positive = kind == "E" or (kind == "N" and (split == "ood" or j % 2 == 0))
                        plans.append(PairPlan(kind, high, distractor, positive))
        rng = np.random.default_rng([self.seed, self.SPLITS.index(split), 1])
        return [plans[i] for i in rng.permutation(len(plans))], label_of

    def read(self, split: str) -> TextPairs:
        """Generate the raw pairs of ``split`` (one of :attr:`SPLITS`; deterministic in ``seed``)."""
        if split not in self.SPLITS:
            raise ConfigError("synthetic_nli split", split, f"one of {list(self.SPLITS)}")
        plans, label_of = self.plans(split)
        rng = np.random.default_rng([self.seed, self.SPLITS.index(split), 2])
        made = [synthetic_pair(rng, p, self.n_operators, self.rule) for p in plans]
        return TextPairs(
            ids=[f"{split}-{i}" for i in range(len(plans))],
            text_a=[m[0] for m in made],
            text_b=[m[1] for m in made],
            labels=[label_of[p.kind] for p in plans],
            origin=f"synthetic_nli[{split}, seed={self.seed}]",
            meta={
                "kind": [p.kind for p in plans],
                "high_overlap": [p.high_overlap for p in plans],
                "distractor": [p.distractor for p in plans],
                "operator": [m[2] for m in made],
                "interrupter": [m[3] for m in made],
                "negated_hypothesis": [p.negated_hypothesis for p in plans],
            },
            cells=[cell_of(p.kind, p.high_overlap) for p in plans],
            cell_names=CELL_NAMES,
        )

    def _check_length(self, pairs: list[TextPairs]) -> None:
        tok = load_tokenizer(self.tokenizer_dir)
        longest = max(
            len(ids) for p in pairs for ids in tok(p.text_a, p.text_b, truncation=False)["input_ids"]
        )
        if longest > self.max_length:
            raise ConfigError(
                "data.dataset.max_length",
                self.max_length,
                f"at least {longest} tokens (the longest synthetic pair with this tokenizer)",
                f"set data.dataset.max_length={longest} and data.input_shape=[{longest}].",
            )

    def load(self) -> Splits:
        self.check()
        raw = {split: self.read(split) for split in self.SPLITS}
        self._check_length(list(raw.values()))
        enc = {split: self.encode(p, f"synthetic_nli-{split}") for split, p in raw.items()}
        return Splits(
            train=enc["train"],
            val={"val": enc["val"]},
            test={name: enc[split] for name, split in self.split_names.items() if name != "val"},
        )
