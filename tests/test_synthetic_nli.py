"""The embedded NLI task (compresslab.data.nlu.synthetic): its construction, the structural preconditions the SRNet
claim tests rely on (issue 16 item 2) and its DataModule.

Structural preconditions, checked here on the generated data:
* the label follows from the main operator and the embedded interrupter only; high overlap copies the clause
  (word overlap exactly 1, never contiguous), low overlap shares no word (overlap exactly 0);
* exact composition: class balance, ``round(bias · count)`` aligned examples per label, the HANS-like split all
  high-overlap with 50 % entailment / 50 % neutral, every clause interrupter positive, the anti-aligned split all
  against the shortcut;
* no word is label-pure, and with every distractor present no word carries the label at all (a bag-of-words
  classifier is at chance); within the HANS-like split no word and no clause interrupter is label-pure either
  (each occurs in both halves at matched rates, so only the operator class separates them), and within the
  anti-aligned split no premise word is;
* the bias-only models (word-overlap rate; the five overlap features) are at chance within each overlap level.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np
import pytest
import torch

from compresslab.data import DataModule
from compresslab.data.nlu import CELL_NAMES, SyntheticNLI, hans_map_predictions, word_overlap
from compresslab.data.nlu import synthetic as syn
from compresslab.srnet import bias as srbias
from compresslab.utils.errors import ConfigError

WORD = re.compile(r"[a-z]+")
PREMISE = re.compile(
    r"the (?P<n1>[a-z]+)(?: who (?P<dint>[a-z ]+?) (?P<dop>[a-z]+) it)? (?P<op>[a-z]+) that the (?P<n2>[a-z]+) "
    r"(?P<int>[a-z ]+?) (?P<v>[a-z]+) the (?P<n3>[a-z]+)(?: in the (?P<p>[a-z]+))?"
)


def _parse(premise: str) -> dict[str, str | None]:
    m = PREMISE.fullmatch(premise)
    assert m is not None, premise
    return m.groupdict()


def _kind_of(op: str, interrupter: str) -> str:
    """The rule the task is built on, written out independently of the generator."""
    if op in syn.NON_FACTIVE:
        return "N"
    return "E" if interrupter in syn.POSITIVE else "C"


# ------------------------------------------------------------------------------------------------ construction
def test_pairs_follow_the_rule_and_the_overlap_levels():
    src = SyntheticNLI(n_train=300, bias=0.5, distractor_rate=0.5, seed=1)
    pairs = src.read("train")
    syn_words = {s for _, s in syn.NOUNS + syn.VERBS}
    for a, b, y, kind, high, distr in zip(
        pairs.text_a,
        pairs.text_b,
        pairs.labels,
        pairs.meta["kind"],
        pairs.meta["high_overlap"],
        pairs.meta["distractor"],
    ):
        parts = _parse(a)
        assert _kind_of(parts["op"], parts["int"]) == kind and y == {"C": 0, "E": 1, "N": 2}[kind]
        assert (parts["dop"] is not None) == distr
        if distr:  # the distractor: the other operator class, the other polarity
            assert (parts["dop"] in syn.FACTIVE) != (parts["op"] in syn.FACTIVE)
            assert (parts["dint"] in syn.POSITIVE) != (parts["int"] in syn.POSITIVE)
        assert len({parts["n1"], parts["n2"], parts["n3"]}) == 3
        hyp = WORD.findall(b)
        if high:
            assert b.startswith(f"the {parts['n2']} {parts['v']} the {parts['n3']}")
            assert word_overlap(a, b) == 1.0 and " ".join(hyp) not in a  # copied, never contiguous
        else:
            assert word_overlap(a, b) == 0.0 and set(hyp) - {"a", "an"} <= syn_words
    assert pairs.meta["operator"][0] == _parse(pairs.text_a[0])["op"]


def test_agreement_rule_labels_factives_by_polarity_agreement():
    """rule=agreement: a factive premise entails its clause as stated — entailment when the hypothesis' polarity
    (negated or not) agrees with the clause's, contradiction when not; non-factive: neutral. Clause polarity and
    hypothesis negation are half / half within every label (neither alone says anything), the distractor's
    interrupter is always a negative word other than the clause's, and the overlap levels stay exactly 1 (never
    contiguous) and 0."""
    src = SyntheticNLI(n_train=600, bias=0.5, rule="agreement", seed=2)
    pairs = src.read("train")
    neg_words = {w for i in syn.NEGATIVE for w in i.split()}
    per_label: dict[str, Counter] = defaultdict(Counter)
    for a, b, kind, high, negated in zip(pairs.text_a, pairs.text_b, pairs.meta["kind"],
                                         pairs.meta["high_overlap"], pairs.meta["negated_hypothesis"]):  # fmt: skip
        parts = _parse(a)
        clause_positive = parts["int"] in syn.POSITIVE
        hyp = WORD.findall(b)
        hyp_negated = bool(set(hyp) & (neg_words | {"not"}))
        assert hyp_negated == negated
        if parts["op"] in syn.NON_FACTIVE:
            assert kind == "N"
        else:
            assert kind == ("E" if hyp_negated != clause_positive else "C")
        assert parts["dint"] in syn.NEGATIVE and parts["dint"] != parts["int"]
        if high:
            assert word_overlap(a, b) == 1.0 and " ".join(hyp) not in a
        else:
            assert word_overlap(a, b) == 0.0
        per_label[kind][(clause_positive, hyp_negated)] += 1
    for kind, counts in per_label.items():
        clause = sum(v for (c, _), v in counts.items() if c) / sum(counts.values())
        negation = sum(v for (_, n), v in counts.items() if n) / sum(counts.values())
        assert clause == pytest.approx(0.5, abs=0.01) and negation == pytest.approx(0.5, abs=0.01), kind
    with pytest.raises(ConfigError, match="data.dataset.rule"):
        SyntheticNLI(rule="xor")


def test_lexicon_is_disjoint_where_the_overlap_levels_need_it():
    premise_words = (
        {w for w, _ in syn.NOUNS + syn.VERBS}
        | set(syn.FACTIVE)
        | set(syn.NON_FACTIVE)
        | {w for i in syn.POSITIVE + syn.NEGATIVE for w in i.split()}
        | set(syn.PLACES)
        | set(syn.TEMPLATE_WORDS)
    )
    synonyms = {s for _, s in syn.NOUNS + syn.VERBS}
    assert not premise_words & (synonyms | {"a", "an"})  # a low-overlap hypothesis shares no premise word
    assert not set(syn.FACTIVE) & set(syn.NON_FACTIVE) and len(syn.FACTIVE) == len(syn.NON_FACTIVE) == 24
    assert not {w for i in syn.POSITIVE for w in i.split()} & {w for i in syn.NEGATIVE for w in i.split()}
    assert len(CELL_NAMES) == 6 and CELL_NAMES[syn.cell_of("E", False)] == "entailment/low"


def test_generation_is_deterministic_in_the_seed():
    a, b = SyntheticNLI(n_train=60, seed=1).read("train"), SyntheticNLI(n_train=60, seed=1).read("train")
    assert a.text_a == b.text_a and a.text_b == b.text_b and a.labels == b.labels
    assert SyntheticNLI(n_train=60, seed=2).read("train").text_a != a.text_a
    assert SyntheticNLI(n_train=60, seed=1).read("val").text_a != a.text_a[:60]  # splits differ


# ------------------------------------------------------------------------------------------------ composition
def test_id_splits_have_balanced_labels_and_exactly_the_configured_bias():
    src = SyntheticNLI(
        n_train=600, n_val=300, n_test=300, bias=0.8, eval_bias=0.6, distractor_rate=0.5, seed=3
    )
    train = src.read("train")
    assert np.bincount(train.labels).tolist() == [200, 200, 200]
    kinds, high = np.array(train.meta["kind"]), np.array(train.meta["high_overlap"])
    aligned = high == (kinds == "E")
    for kind in "CEN":
        assert aligned[kinds == kind].sum() == 160  # round(0.8 * 200) of every label
        distr = np.array(train.meta["distractor"])[kinds == kind]
        assert distr.sum() == 100  # the distractor rate holds in every label (and every label x overlap cell)
    assert aligned.mean() == pytest.approx(0.8)
    assert (high == (kinds == "E"))[kinds == "N"].sum() == 160
    n_int = np.array([i in syn.POSITIVE for i in train.meta["interrupter"]])
    assert n_int[kinds == "N"].sum() == 100 and n_int[kinds == "E"].all() and not n_int[kinds == "C"].any()
    val = src.read("val")
    assert (
        np.array(val.meta["high_overlap"]) == (np.array(val.meta["kind"]) == "E")
    ).mean() == pytest.approx(0.6)
    assert np.bincount(val.labels).tolist() == [100, 100, 100]


def test_hans_like_split_is_all_high_overlap_half_entailment_half_neutral():
    """Task version 2: the non-entailment half is neutral only, with a positive clause interrupter like every
    entailment pair (a contradiction would be marked by its negative interrupter)."""
    for num_labels in (3, 2):
        ood = SyntheticNLI(num_labels=num_labels, n_ood=400, seed=0).read("ood")
        assert all(ood.meta["high_overlap"]) and all(
            word_overlap(a, b) == 1.0 for a, b in zip(ood.text_a, ood.text_b)
        )
        assert Counter(ood.meta["kind"]) == {"E": 200, "N": 200}
        assert np.bincount(ood.labels).tolist() == [200, 200]  # HANS labels: non-entailment 0, entailment 1
        assert Counter(ood.cells) == {syn.cell_of("E", True): 200, syn.cell_of("N", True): 200}
        assert all(i in syn.POSITIVE for i in ood.meta["interrupter"])
        assert sum(ood.meta["distractor"]) == 400  # distractor_rate 1: one negative word in every premise
    assert SyntheticNLI().task_version == syn.TASK_VERSION == 2
    with pytest.raises(ConfigError, match=r"data.dataset.task_version': got 1.*no longer generated"):
        SyntheticNLI(task_version=1)


@pytest.mark.parametrize("num_labels", [3, 2])
def test_anti_aligned_split_is_entirely_against_the_shortcut(num_labels: int):
    anti = SyntheticNLI(num_labels=num_labels, n_anti=300).read("anti")
    kinds, high = np.array(anti.meta["kind"]), np.array(anti.meta["high_overlap"])
    assert not (high == (kinds == "E")).any()  # entailment low overlap, the others high
    if num_labels == 3:
        assert np.bincount(anti.labels).tolist() == [100, 100, 100]
    else:
        assert np.bincount(anti.labels).tolist() == [150, 150] and Counter(kinds) == {
            "E": 150,
            "C": 75,
            "N": 75,
        }


def test_two_way_task_uses_hans_labels_everywhere():
    src = SyntheticNLI(num_labels=2, n_train=400, bias=0.75)
    train = src.read("train")
    assert src.num_classes == 2 and src.label_names == ("non-entailment", "entailment")
    assert np.bincount(train.labels).tolist() == [200, 200] and Counter(train.meta["kind"]) == {
        "E": 200,
        "C": 100,
        "N": 100,
    }
    assert src.prediction_maps == {}


# ------------------------------------------------------------------------------------------------ preconditions
def _label_shares(pairs, premise_only: bool = False) -> dict[str, Counter]:
    """Word -> how many examples of each label contain it."""
    labels: dict[str, Counter] = defaultdict(Counter)
    for a, b, y in zip(pairs.text_a, pairs.text_b, pairs.labels):
        for w in set(WORD.findall(a if premise_only else f"{a} {b}")):
            labels[w][y] += 1
    return labels


def test_no_word_is_label_pure():
    """Every word of the training pairs occurs with all three labels. At bias 0.5 for all words; at a high bias the
    synonyms of low-overlap hypotheses are rare in entailment (that is the shortcut itself), so there the claim is
    about the premise words, which carry the rule."""
    for rate in (1.0, 0.5):
        shares = _label_shares(SyntheticNLI(bias=0.5, distractor_rate=rate).read("train"))
        assert all(len(c) == 3 for c in shares.values()), [w for w, c in shares.items() if len(c) < 3]
        biased = SyntheticNLI(bias=0.9, distractor_rate=rate).read("train")
        premise_words = _label_shares(biased, premise_only=True)
        assert all(len(c) == 3 for c in premise_words.values()), [
            w for w, c in premise_words.items() if len(c) < 3
        ]
    # without distractors the non-factive operators say "neutral" on their own: the knob is real
    bare = _label_shares(SyntheticNLI(bias=0.9, distractor_rate=0.0).read("train"))
    assert {w for w, c in bare.items() if len(c) == 1} == set(syn.NON_FACTIVE)


def _clause_interrupter_shares(pairs) -> dict[str, Counter]:
    """Clause interrupter (the one the label reads) -> how many examples of each label carry it."""
    shares: dict[str, Counter] = defaultdict(Counter)
    for interrupter, y in zip(pairs.meta["interrupter"], pairs.labels):
        shares[interrupter][y] += 1
    return shares


def test_hans_like_split_has_no_label_pure_word_or_interrupter():
    """Within the HANS-like split (600 pairs, 300 per label) every word of premise + hypothesis occurs in both
    labels (120 words), every clause interrupter in use occurs in both with an entailment share in [0.35, 0.65]
    (measured: 0.38-0.61 over the 8 positive interrupters; no negative one is used), every negative word occurs
    in both labels (in the distractor clause) with a share in [0.35, 0.65] (measured 0.49-0.51), and a
    bag-of-words classifier trained on half of a 2,000-pair split and scored on the other half is at chance
    (measured 50.4 %)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    ood = SyntheticNLI(n_ood=600).read("ood")
    words = _label_shares(ood)
    assert all(len(c) == 2 for c in words.values()), [w for w, c in words.items() if len(c) < 2]
    clause = _clause_interrupter_shares(ood)
    assert set(clause) == set(syn.POSITIVE)
    for interrupter, c in clause.items():
        assert 0.35 <= c[1] / (c[0] + c[1]) <= 0.65, (interrupter, c)
    for negative in {w for i in syn.NEGATIVE for w in i.split()}:
        c = words[negative]
        assert 0.35 <= c[1] / (c[0] + c[1]) <= 0.65, (negative, c)
    big = SyntheticNLI(n_ood=2000).read("ood")
    text = [f"{a} {b}" for a, b in zip(big.text_a, big.text_b)]
    y = np.array(big.labels)
    vec = CountVectorizer(token_pattern=r"[a-z]+").fit(text)
    clf = LogisticRegression(max_iter=2000).fit(vec.transform(text[:1000]), y[:1000])
    assert (clf.predict(vec.transform(text[1000:])) == y[1000:]).mean() < 0.56


def test_anti_aligned_split_has_no_label_pure_premise_word():
    """Within an anti-aligned split of 600 pairs (200 per label) every premise word occurs in all three labels (the
    hypothesis words cannot: its low-overlap synonyms are entailment's by construction, the shortcut reversed),
    and no clause interrupter is label-pure: a positive one occurs in entailment and neutral, a negative one in
    contradiction and neutral (factive + negative is contradiction by the rule itself)."""
    anti = SyntheticNLI(n_anti=600).read("anti")
    words = _label_shares(anti, premise_only=True)
    assert all(len(c) == 3 for c in words.values()), [w for w, c in words.items() if len(c) < 3]
    clause = _clause_interrupter_shares(anti)
    for interrupter, c in clause.items():
        labels = {0, 2} if interrupter in syn.NEGATIVE else {1, 2}  # MNLI order: C 0, E 1, N 2
        assert set(c) == labels, (interrupter, c)


def _bow_accuracy(distractor_rate: float) -> float:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    src = SyntheticNLI(bias=0.5, distractor_rate=distractor_rate, n_test=900)
    train, test = src.read("train"), src.read("test")
    vec = CountVectorizer(token_pattern=r"[a-z]+")
    x = vec.fit_transform([f"{a} {b}" for a, b in zip(train.text_a, train.text_b)])
    clf = LogisticRegression(max_iter=2000).fit(x, train.labels)
    pred = clf.predict(vec.transform([f"{a} {b}" for a, b in zip(test.text_a, test.text_b)]))
    return float((pred == np.array(test.labels)).mean())


def test_with_every_distractor_no_word_carries_the_label():
    """A unigram bag-of-words classifier (premise + hypothesis words) is at chance (measured 34.7 % on 900 test
    pairs, chance 33.3 %) when every premise has its distractor, and perfect without distractors."""
    assert _bow_accuracy(1.0) < 0.40
    assert _bow_accuracy(0.0) > 0.99


class _FirstLetterVectors:
    """Word vectors without a model: one-hot of the first letter (similar words share it)."""

    def add(self, vocab) -> None:
        pass

    def matrix(self, ws) -> np.ndarray:
        m = np.zeros((len(ws), 26), np.float32)
        for i, w in enumerate(ws):
            m[i, ord(w[0]) - 97] = 1.0
        return m


@pytest.mark.parametrize(
    ("features", "rule"),
    [("word_overlap", "interrupter"), ("overlap", "interrupter"), ("word_overlap", "agreement")],
)
def test_bias_only_model_is_at_chance_within_each_overlap_level(
    features: str, rule: str, monkeypatch: pytest.MonkeyPatch
):
    """The bias-only model learns the shortcut (high overlap -> entailment) and nothing else: within an overlap
    level its accuracy is the majority-label rate of that level (bias 0.9: 81.8 % of the high-overlap pairs are
    entailment; the low level is contradiction and neutral in equal parts, 47.4 % each). Under rule=agreement
    only the overlap rate (the reduced runs' bias model) is checked: the five-feature model's similarity features
    with this test's first-letter vectors read 51.7 % at the low level there (a negated hypothesis is longer, and
    in contradiction its negation goes with the clause's polarity words)."""
    monkeypatch.setattr(srbias, "WordVectors", lambda pretrained=None: _FirstLetterVectors())
    pairs = SyntheticNLI(n_train=1200, bias=0.9, rule=rule).read("train")
    log_probs, meta = srbias.fit_bias_model(pairs.text_a, pairs.text_b, pairs.labels, 3, features)
    pred, y = log_probs.argmax(1), np.array(pairs.labels)
    high = np.array(pairs.meta["high_overlap"])
    for level, majority in ((high, 360 / 440), (~high, 360 / 760)):
        assert np.bincount(y[level]).max() / level.sum() == pytest.approx(majority)
        assert (
            pred[level] == y[level]
        ).mean() <= majority + 0.02  # no better than the level's majority label
    assert (pred[high] == 1).all() and not (pred[~high] == 1).any()  # the shortcut itself is learnt
    assert meta["train_accuracy"] == pytest.approx((360 + 360) / 1200, abs=0.02)


# ------------------------------------------------------------------------------------------------ source contract
def test_declared_metrics_maps_and_cells():
    src = SyntheticNLI()
    assert src.metrics == {
        "val": ["acc"],
        "test": ["acc"],
        "test_hans_like": ["acc"],
        "test_anti_aligned": ["acc"],
    }
    assert src.prediction_maps == {"test_hans_like": "mnli_to_hans"}
    assert set(src.cell_names) == {"train", "val", "test", "test_hans_like", "test_anti_aligned"}
    assert all(names == CELL_NAMES for names in src.cell_names.values())
    renamed = SyntheticNLI(ood_name="hans", anti_name="anti")
    assert list(renamed.metrics) == ["val", "test", "test_hans", "test_anti"]


def test_bad_values_are_named():
    with pytest.raises(ConfigError, match="data.dataset.bias': got 1.5"):
        SyntheticNLI(bias=1.5)
    with pytest.raises(ConfigError, match="data.dataset.distractor_rate': got -0.1"):
        SyntheticNLI(distractor_rate=-0.1)
    with pytest.raises(ConfigError, match=r"data.dataset.n_operators': got 25.*\[1, 24\]"):
        SyntheticNLI(n_operators=25)
    with pytest.raises(ConfigError, match="data.dataset.anti_name': got 'x'.*other than ood_name"):
        SyntheticNLI(ood_name="x", anti_name="x")
    with pytest.raises(ConfigError, match="data.dataset.n_anti': got 5"):
        SyntheticNLI(n_anti=5)
    with pytest.raises(
        ConfigError, match=r"data.dataset.max_length': got 24.*at least 30 tokens.*max_length=30"
    ):
        SyntheticNLI(n_train=60, n_val=12, n_test=12, n_ood=12, n_anti=12, max_length=24).load()


def test_fewer_operators_use_only_the_first_ones():
    pairs = SyntheticNLI(n_train=300, n_operators=4).read("train")
    used = {w for a in pairs.text_a for w in WORD.findall(a)} & set(syn.FACTIVE + syn.NON_FACTIVE)
    assert used == set(syn.FACTIVE[:4] + syn.NON_FACTIVE[:4])


# ------------------------------------------------------------------------------------------------ DataModule
def test_datamodule_serves_batches_with_cells():
    src = SyntheticNLI(n_train=64, n_val=24, n_test=24, n_ood=24, n_anti=24)
    dm = DataModule(src, num_classes=3, input_shape=[32], batch_size=16, seed=0)
    dm.setup()
    batch = next(iter(dm.train_dataloader()))
    assert {k: tuple(v.shape) for k, v in batch.items()} == {
        "input_ids": (16, 32),
        "attention_mask": (16, 32),
        "token_type_ids": (16, 32),
        "labels": (16,),
        "idx": (16,),
        "cell": (16,),
    }
    assert all(v.dtype == torch.long for v in batch.values())
    train = dm.loaded_splits().train
    assert torch.equal(train.cells[batch["idx"]], batch["cell"]) and train.cell_names == CELL_NAMES
    assert dm.test_names == ["test", "test_hans_like", "test_anti_aligned"] and len(dm.test_dataloader()) == 3
    ood = next(iter(dm.test_dataloader()[1]))
    assert ood["labels"].max() <= 1 and ood["idx"].tolist() == list(range(16))  # eval order is file order
    assert set(ood["cell"].tolist()) <= {syn.cell_of(k, True) for k in "CEN"}
    # a cell's accuracy is computable from the batch alone: predicting entailment everywhere on the HANS-like
    # split is right exactly on its entailment cell
    preds = hans_map_predictions(torch.ones_like(ood["labels"]))
    right = preds == ood["labels"]
    assert torch.equal(right, ood["cell"] == syn.cell_of("E", True))
    assert dm.splits.train.encoded["attention_mask"][:, -1].sum() == 0  # max_length 32 truncates nothing
