"""NLU data writers: tiny files in exactly the real on-disk formats of MNLI, HANS, QQP, PAWS, FEVER and
FEVER-Symmetric (used by the reader tests and the experiment smokes)."""

from __future__ import annotations

import json
from pathlib import Path

MNLI_TRAIN_HEADER = (
    "index promptID pairID genre sentence1_binary_parse sentence2_binary_parse sentence1_parse "
    "sentence2_parse sentence1 sentence2 label1 gold_label"
).split()
MNLI_DEV_HEADER = MNLI_TRAIN_HEADER[:-1] + ["label2", "label3", "label4", "label5", "gold_label"]
HANS_HEADER = (
    "gold_label sentence1_binary_parse sentence2_binary_parse sentence1_parse sentence2_parse sentence1 "
    "sentence2 pairID heuristic subcase template"
).split()

MNLI_ROWS = [  # (pairID, genre, premise, hypothesis, gold)
    ("31193n", "government", "Conceptually cream skimming has two basic dimensions.", "Product matters.", "neutral"),
    ("101457e", "telephone", 'you know during the season and i guess "at at your level', "You lose things.", "entailment"),
    ("134793e", "fiction", "One of our number will carry out your instructions minutely.", "A member will do it.", "entailment"),
    ("37397e", "fiction", "How do you know? All this is their information again.", "This is not new.", "contradiction"),
]  # fmt: skip


def _tsv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def _parse(text: str) -> str:
    return "( " + " ".join(text.split()) + " )"


def write_mnli(root: Path) -> Path:
    """GLUE MNLI: train.tsv (12 columns) and dev_matched/dev_mismatched.tsv (16 columns, 5 annotator labels)."""
    train = [
        [str(i), pid[:-1], pid, genre, _parse(p), _parse(h), f"(ROOT {_parse(p)})", f"(ROOT {_parse(h)})", p, h, g, g]
        for i, (pid, genre, p, h, g) in enumerate(MNLI_ROWS)
    ]  # fmt: skip
    dev = [
        [str(i), pid[:-1], pid, genre, _parse(p), _parse(h), f"(ROOT {_parse(p)})", f"(ROOT {_parse(h)})", p, h,
         g, g, "neutral", g, g, g]
        for i, (pid, genre, p, h, g) in enumerate(MNLI_ROWS[:3])
    ]  # fmt: skip
    _tsv(root / "train.tsv", MNLI_TRAIN_HEADER, train)
    _tsv(root / "dev_matched.tsv", MNLI_DEV_HEADER, dev)
    _tsv(root / "dev_mismatched.tsv", MNLI_DEV_HEADER, dev[:2])
    return root


def write_hans(root: Path) -> Path:
    """HANS heuristics_{train,evaluation}_set.txt: 11 tab-separated columns with a header."""
    rows = [
        ("non-entailment", "The president advised the doctor .", "The doctor advised the president .", "ex0",
         "lexical_overlap", "ln_subject/object_swap", "temp1"),
        ("entailment", "The doctor near the actor danced .", "The doctor danced .", "ex1",
         "subsequence", "se_PP_on_subj", "temp29"),
        ("non-entailment", "The judge by the actor stopped the banker .", "The banker stopped the actor .", "ex2",
         "lexical_overlap", "ln_preposition", "temp5"),
    ]  # fmt: skip
    lines = [[g, _parse(p), _parse(h), f"(ROOT {_parse(p)})", f"(ROOT {_parse(h)})", p, h, i, heu, sub, t]
             for g, p, h, i, heu, sub, t in rows]  # fmt: skip
    _tsv(root / "heuristics_train_set.txt", HANS_HEADER, lines)
    _tsv(root / "heuristics_evaluation_set.txt", HANS_HEADER, lines[:2])
    return root


def write_qqp(root: Path, broken: bool = True) -> Path:
    """GLUE QQP train.tsv/dev.tsv; with ``broken``, train has a question split by a newline (as the real file)."""
    header = ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"]
    rows = [
        ["133273", "213221", "213222", "How is the life of a math student?", "Which level is enough for jlpt5?", "0"],
        ["402555", "536040", "536041", "How do I control my horny emotions?", "How do you control your horniness?", "1"],
        ["360472", "364011", "490273", "What causes stool color to change?", "What can cause stool to come out?", "0"],
    ]  # fmt: skip
    path = _tsv(root / "train.tsv", header, rows)
    if broken:  # line 5 ends inside question2, line 6 is its continuation
        with open(path, "a", encoding="utf-8") as f:
            f.write("150662\t155721\t7256\tWas Muhammad real?\tWhat is the evidence\n")
            f.write("\tfor his existence?\t0\n")
    _tsv(root / "dev.tsv", header, rows[:2])
    return root


def write_paws(root: Path, variant: str) -> Path:
    """PAWS tsv (id, sentence1, sentence2, label); qqp: train + dev_and_test (677 in the real set); wiki: +test."""
    header = ["id", "sentence1", "sentence2", "label"]
    rows = [
        ["1", "In Paris , in October 1560 , he secretly met the English ambassador .",
         "In October 1560 , he secretly met with the English ambassador in Paris .", "0"],
        ["2", "The NBA season of 1975 -- 76 was the 30th season .",
         "The 1975 -- 76 season of the NBA was the 30th season .", "1"],
        ["3", "There are also specific discussions and public profile debates .",
         "There are also public discussions and specific debates .", "0"],
    ]  # fmt: skip
    _tsv(root / "train.tsv", header, rows)
    if variant == "qqp":
        _tsv(root / "dev_and_test.tsv", header, rows[:2])
    else:
        _tsv(root / "dev.tsv", header, rows[:2])
        _tsv(root / "test.tsv", header, rows[1:])
    return root


def write_jsonl(path: Path, objs: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


def write_fever(root: Path) -> Path:
    """Schuster et al.'s fever.{train,dev}.jsonl: id, claim, evidence, gold_label (a claim may repeat)."""
    objs = [
        {"id": 75397, "claim": "Nikolaj Coster-Waldau worked with the Fox Broadcasting Company.",
         "evidence": "He then played Detective John Amsterdam in the Fox television series New Amsterdam .",
         "gold_label": "SUPPORTS"},
        {"id": 75397, "claim": "Nikolaj Coster-Waldau worked with the Fox Broadcasting Company.",
         "evidence": "Nikolaj Coster-Waldau is a Danish actor and producer .", "gold_label": "SUPPORTS"},
        {"id": 150448, "claim": "Roman Atwood is a content creator.",
         "evidence": "He is best known for his vlogs .", "gold_label": "REFUTES"},
        {"id": 214861, "claim": "History of art includes architecture.",
         "evidence": "The history of art is the history of any activity .", "gold_label": "NOT ENOUGH INFO"},
    ]  # fmt: skip
    write_jsonl(root / "fever.train.jsonl", objs)
    # dev names the gold label 'label'
    write_jsonl(root / "fever.dev.jsonl", [{**o, "label": o.pop("gold_label")} for o in objs[2:]])
    return root


def write_symm(root: Path, version: int) -> Path:
    """FEVER-Symmetric: v1 test.jsonl {id, claim, evidence_sentence, label}; v2 {dev,test}.jsonl with
    {id, claim, evidence, gold_label, label, sentence1, sentence2, evid}."""
    claims = [("Tim Roth is an English actor.", "Timothy Roth is an English actor .", "SUPPORTS"),
              ("Tim Roth is an Italian actor.", "Timothy Roth is an English actor .", "REFUTES"),
              ("Aruba is a city.", "Aruba is a country .", "REFUTES")]  # fmt: skip
    if version == 1:
        write_jsonl(root / "test.jsonl", [
            {"id": i, "claim": c, "evidence_sentence": e, "label": y} for i, (c, e, y) in enumerate(claims)
        ])  # fmt: skip
    else:
        objs = [{"id": f"{i}", "claim": c, "evidence": e, "gold_label": y, "label": y, "sentence1": c,
                 "sentence2": e, "evid": e} for i, (c, e, y) in enumerate(claims)]  # fmt: skip
        write_jsonl(root / "dev.jsonl", objs[:2])
        write_jsonl(root / "test.jsonl", objs)
    return root
