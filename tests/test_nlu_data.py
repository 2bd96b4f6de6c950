"""NLU readers on tiny fixtures written in exactly the real on-disk formats, the HANS mapping, the declared source
contract, the tokenisation cache and the NLU configs. The synthetic task has its own file, test_synthetic_nli.py."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import hydra
import numpy as np
import pytest
import torch
import transformers  # noqa: F401 - imported at collection, so no single test pays the ~2 s import

from compresslab.data import DataModule, nlu
from compresslab.data.nlu import (
    FEVER,
    HANS,
    MNLI,
    PAWS,
    QQP,
    FeverSymm,
    NLUSource,
    SyntheticNLI,
    TextPairSource,
    encoding,
    hans_map_predictions,
    minilm_path,
)
from compresslab.train import validate
from compresslab.utils.errors import ConfigError, DataError
from compresslab.utils.hydra_app import CONF_DIR
from tests.helpers.nlu import (
    MNLI_TRAIN_HEADER,
    write_fever,
    write_hans,
    write_jsonl,
    write_mnli,
    write_paws,
    write_qqp,
    write_symm,
)


# ------------------------------------------------------------------------------------------------ readers
def test_mnli_reads_glue_tsv(tmp_path: Path):
    src = MNLI(str(write_mnli(tmp_path / "MNLI")))
    train = src.read("train")
    assert len(train) == 4 and src.num_classes == 3
    assert train.ids == ["31193n", "101457e", "134793e", "37397e"]
    assert train.labels == [2, 1, 1, 0]  # contradiction 0, entailment 1, neutral 2
    assert train.text_a[1] == 'you know during the season and i guess "at at your level'  # quotes kept raw
    assert train.text_b[0] == "Product matters." and train.meta["genre"][0] == "government"
    dev = src.read("dev")  # 16 columns, gold_label last
    assert dev.labels == [2, 1, 1] and dev.origin.endswith("dev_matched.tsv")


def test_hans_reads_heuristics_txt(tmp_path: Path):
    src = HANS(str(write_hans(tmp_path / "hans")))
    train, ev = src.read("train"), src.read("test")
    assert (len(train), len(ev)) == (3, 2) and src.num_classes == 2
    assert train.labels == [0, 1, 0] and train.ids == ["ex0", "ex1", "ex2"]
    assert (
        train.text_a[0] == "The president advised the doctor ."
        and train.meta["heuristic"][1] == "subsequence"
    )


def test_hans_cells_are_label_by_heuristic(tmp_path: Path):
    root = write_hans(tmp_path / "hans")
    train = HANS(str(root)).read("train")
    assert train.cell_names[:3] == ("non-entailment/lexical_overlap", "non-entailment/subsequence",
                                    "non-entailment/constituent") and len(train.cell_names) == 6  # fmt: skip
    assert [train.cell_names[c] for c in train.cells] == [
        "non-entailment/lexical_overlap",
        "entailment/subsequence",
        "non-entailment/lexical_overlap",
    ]
    mnli = MNLI("m", ood={"hans": HANS(str(root))})
    assert mnli.cell_names == {"test_hans": train.cell_names}
    lines = (root / "heuristics_evaluation_set.txt").read_text().split("\n")
    _replace_line(root / "heuristics_evaluation_set.txt", 3, lines[2].replace("subsequence", "subsequense"))
    with pytest.raises(DataError, match=r"example 2 \(pairID 'ex1'\): unknown heuristic 'subsequense'"):
        HANS(str(root)).read("test")


def test_qqp_skips_broken_rows_by_default_and_fails_on_them_when_strict(tmp_path: Path):
    root = write_qqp(tmp_path / "QQP")
    pairs = QQP(str(root)).read("train")
    assert len(pairs) == 3 and pairs.labels == [0, 1, 0] and pairs.ids[0] == "133273"
    assert pairs.text_a[1] == "How do I control my horny emotions?"
    with pytest.raises(DataError, match=r"line 5 has 5 tab-separated fields, expected 6") as e:
        QQP(str(root), skip_malformed=False).read("train")
    assert "train.tsv" in str(e.value)


@pytest.mark.parametrize("variant", ["qqp", "wiki"])
def test_paws_reads_tsv(tmp_path: Path, variant: str):
    src = PAWS(str(write_paws(tmp_path / variant, variant)), variant=variant)
    assert src.name == f"paws_{variant}" and src.eval_metrics == ("acc", "f1_weighted")
    train = src.read("train")
    assert len(train) == 3 and train.labels == [0, 1, 0] and train.ids == ["1", "2", "3"]
    assert len(src.read(src.eval_split)) == 2  # qqp: dev_and_test.tsv accepted; wiki: test.tsv
    assert src.file_for(src.eval_split).name == ("dev_and_test.tsv" if variant == "qqp" else "test.tsv")


def test_fever_reads_schuster_jsonl(tmp_path: Path):
    src = FEVER(str(write_fever(tmp_path / "fever")))
    train = src.read("train")
    assert train.labels == [0, 0, 1, 2]  # SUPPORTS, REFUTES, NOT ENOUGH INFO
    assert train.ids == ["75397", "75397#2", "150448", "214861"]  # repeated claim id made unique, in order
    assert train.text_b[1] == "Nikolaj Coster-Waldau is a Danish actor and producer ."
    assert src.read("dev").labels == [1, 2]  # dev uses the 'label' field


@pytest.mark.parametrize("version", [1, 2])
def test_fever_symm_reads_its_own_fields(tmp_path: Path, version: int):
    src = FeverSymm(str(write_symm(tmp_path / f"sym{version}", version)), version=version)
    test = src.read("test")
    assert src.num_classes == 3 and test.labels == [0, 1, 1]  # gold in FEVER's indices
    assert test.text_b[0] == "Timothy Roth is an English actor ."
    assert test.ids == ["0", "1", "2"]
    if version == 2:
        assert len(src.read("dev")) == 2 and src.train_split == "dev"
    else:
        assert src.train_split is None


def test_symm_rejects_nei_gold(tmp_path: Path):
    root = write_symm(tmp_path / "sym1", 1)
    with open(root / "test.jsonl", "a") as f:
        f.write(
            json.dumps({"id": 9, "claim": "x", "evidence_sentence": "y", "label": "NOT ENOUGH INFO"}) + "\n"
        )
    with pytest.raises(DataError, match=r"line 4: unknown label 'NOT ENOUGH INFO' in field 'label'") as e:
        FeverSymm(str(root), version=1).read("test")
    assert "test.jsonl" in str(e.value) and "['SUPPORTS', 'REFUTES']" in str(e.value)


# ------------------------------------------------------------------------------------------------ bad input
def _replace_line(path: Path, lineno: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[lineno - 1] = text
    path.write_text("\n".join(lines), encoding="utf-8")


def test_mnli_malformed_line_names_file_and_line(tmp_path: Path):
    root = write_mnli(tmp_path / "MNLI")
    good = (root / "train.tsv").read_text().split("\n")[3]
    _replace_line(root / "train.tsv", 3, "\t".join(good.split("\t")[:-2]))
    with pytest.raises(DataError) as e:
        MNLI(str(root)).read("train")
    msg = str(e.value)
    assert str(root / "train.tsv") in msg and "line 3 has 10 tab-separated fields, expected 12" in msg
    assert "GLUE MNLI tsv" in msg  # what was expected


def test_unknown_label_and_missing_column(tmp_path: Path):
    root = write_mnli(tmp_path / "MNLI")
    row = (root / "dev_matched.tsv").read_text().split("\n")[2].split("\t")
    _replace_line(root / "dev_matched.tsv", 3, "\t".join([*row[:-1], "-"]))  # SNLI-style '-' gold label
    with pytest.raises(DataError, match=r"dev_matched.tsv: line 3: unknown label '-' in column 'gold_label'"):
        MNLI(str(root)).read("dev")
    _replace_line(root / "train.tsv", 1, "\t".join(MNLI_TRAIN_HEADER[:-1] + ["label"]))
    with pytest.raises(DataError, match=r"line 1 \(header\) lacks column\(s\) \['gold_label'\]"):
        MNLI(str(root)).read("train")


def test_jsonl_errors_name_file_and_line(tmp_path: Path):
    root = write_fever(tmp_path / "fever")
    path = root / "fever.train.jsonl"
    _replace_line(path, 2, '{"id": 1, "claim": "x", "evidence": "y", "gold_label": ')
    with pytest.raises(DataError, match=r"fever.train.jsonl: line 2 is not valid JSON"):
        FEVER(str(root)).read("train")
    _replace_line(
        path, 2, json.dumps({"id": 1, "claim": "x", "evidence_text": "y", "gold_label": "SUPPORTS"})
    )
    with pytest.raises(DataError, match=r"line 2: no second text field \(looked for \['evidence'\]"):
        FEVER(str(root)).read("train")
    _replace_line(path, 2, json.dumps({"id": 1, "claim": "x", "evidence": "y", "gold_label": "supports"}))
    with pytest.raises(DataError, match=r"line 2: unknown label 'supports'"):
        FEVER(str(root)).read("train")
    path.write_bytes(b'{"id": 1, "claim": "caf\xe9", "evidence": "y", "gold_label": "SUPPORTS"}\n')
    with pytest.raises(DataError, match=r"line 1 is not valid UTF-8"):
        FEVER(str(root)).read("train")


def test_missing_files_say_what_to_put_where(tmp_path: Path):
    with pytest.raises(DataError) as e:
        MNLI(str(tmp_path / "MNLI")).check()
    msg = str(e.value)
    assert "the folder does not exist" in msg and "train.tsv" in msg and "dev_matched.tsv" in msg
    assert "gluebenchmark.com" in msg
    root = write_mnli(tmp_path / "MNLI")
    src = MNLI(str(root), ood={"hans": HANS(str(tmp_path / "MNLI" / "hans"))})
    with pytest.raises(DataError) as e:
        src.check()
    assert "heuristics_evaluation_set.txt" in str(e.value) and "tommccoy1/hans" in str(e.value)
    (root / "dev_matched.tsv").unlink()
    with pytest.raises(DataError, match=r"mnli data missing: \[.*dev_matched.tsv"):
        MNLI(str(root)).check()


def test_bad_config_values_are_named():
    with pytest.raises(ConfigError, match="data.dataset.max_length': got 4"):
        MNLI("x", max_length=4)
    with pytest.raises(ConfigError, match="data.dataset.ood.HANS'"):
        MNLI("x", ood={"HANS": HANS("y")})
    with pytest.raises(ConfigError, match=r"data.dataset.ood.fever'.*fit qqp's 2 classes"):
        QQP("x", ood={"fever": FEVER("y")})
    with pytest.raises(ConfigError, match="data.dataset.mix_train.symm1'.*evaluation-only"):
        FEVER("x", mix_train={"symm1": FeverSymm("y", version=1)})
    with pytest.raises(ConfigError, match="data.dataset.mix_duplicates.hans'"):
        MNLI("x", mix_duplicates={"hans": 2})
    with pytest.raises(ConfigError, match="data.dataset.variant'"):
        PAWS("x", variant="quora")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="data.dataset.bias': got 1.5"):
        SyntheticNLI(bias=1.5)


def test_fever_original_release_is_refused_with_the_expected_format_and_its_source(tmp_path: Path):
    """A FEVER 1.0 original-release line (evidence = lists of Wikipedia sentence pointers, no text) names the
    processed claim-evidence format, its files and where they come from."""
    root = tmp_path / "fever"
    write_jsonl(root / "fever.train.jsonl", [
        {"id": 75397, "verifiable": "VERIFIABLE", "label": "SUPPORTS",
         "claim": "Nikolaj Coster-Waldau worked with the Fox Broadcasting Company.",
         "evidence": [[[92206, 104971, "Nikolaj_Coster-Waldau", 7], [92206, 104971, "Fox_Broadcasting_Company", 0]]]},
    ])  # fmt: skip
    write_jsonl(root / "fever.dev.jsonl", [{"id": 1, "claim": "x", "evidence": "y", "label": "SUPPORTS"}])
    with pytest.raises(DataError) as e:
        FEVER(str(root)).read("train")
    msg = str(e.value)
    assert str(root / "fever.train.jsonl") in msg and "line 1: field 'evidence' is a list" in msg
    assert "[[[92206, 104971," in msg  # the offending value
    assert (
        "FEVER 1.0 original release" in msg
        and "expected instead the processed FEVER claim-evidence pairs of Schuster et al." in msg
    )
    assert "fever.train.jsonl and fever.dev.jsonl" in msg and "github.com/TalSchuster/FeverSymmetric" in msg
    assert "{id, claim, evidence, gold_label}" in msg
    with pytest.raises(
        DataError, match=r"(?s)fever data missing.*Where to get it: the processed FEVER claim-evidence pairs"
    ):
        FEVER(str(tmp_path / "absent")).check()


def test_symm_v1_list_evidence_is_a_plain_type_error(tmp_path: Path):
    root = write_symm(tmp_path / "sym1", 1)
    _replace_line(
        root / "test.jsonl",
        2,
        json.dumps({"id": 1, "claim": "x", "evidence_sentence": ["y"], "label": "REFUTES"}),
    )
    with pytest.raises(
        DataError, match=r"line 2: field 'evidence_sentence' is a list \(\[\"y\"\]\), expected a string"
    ) as e:
        FeverSymm(str(root), version=1).read("test")
    assert "original release" not in str(e.value)  # the FEVER hint belongs to FEVER's format only


# ------------------------------------------------------------------------------------------------ mapping/metrics
def test_hans_mapping_moves_only_neutral():
    preds = torch.tensor([0, 1, 2, 2, 1, 0])  # contradiction, entailment, neutral, ...
    assert hans_map_predictions(preds).tolist() == [0, 1, 0, 0, 1, 0]
    arr = np.array([[2, 1], [0, 2]], dtype=np.int64)
    out = hans_map_predictions(arr)
    assert out.tolist() == [[0, 1], [0, 0]] and out.dtype == np.int64 and isinstance(out, np.ndarray)
    gold = torch.tensor([0, 1, 0, 0, 1, 1])  # HANS: non-entailment 0, entailment 1
    assert (hans_map_predictions(preds) == gold).float().mean().item() == pytest.approx(5 / 6)
    assert nlu.PREDICTION_MAPS["mnli_to_hans"] is hans_map_predictions


def test_metric_hints_per_split():
    mnli = MNLI("m", ood={"hans": HANS("h")}, mismatched=True)
    assert mnli.metrics == {"val": ["acc"], "test": ["acc"], "test_mismatched": ["acc"], "test_hans": ["acc"]}
    assert mnli.prediction_maps == {"test_hans": "mnli_to_hans"}
    qqp = QQP("q", ood={"paws_qqp": PAWS("p", variant="qqp"), "paws_wiki": PAWS("w", variant="wiki")})
    assert qqp.metrics["test"] == ["acc", "f1"] and qqp.metrics["test_paws_wiki"] == ["acc", "f1_weighted"]
    assert qqp.prediction_maps == {}
    fever = FEVER("f", ood={"symm1": FeverSymm("s", version=1)})
    assert fever.prediction_maps == {}  # Symm: 3-way predictions against 2-way gold, unmapped


def test_sources_declare_their_contract():
    """Every pair source is a TextPairSource whose constructor lists its arguments (no forwarded **kwargs, no
    rewritten signature): the signature is the schema the config validator checks."""
    for cls in (MNLI, HANS, QQP, PAWS, FEVER, FeverSymm, SyntheticNLI):
        assert issubclass(cls, TextPairSource)
        params = inspect.signature(cls).parameters
        assert not any(p.kind is p.VAR_KEYWORD for p in params.values()), cls
        assert {"tokenizer", "max_length", "cache_dir"} <= set(params), cls
    assert {"root", "ood", "mix_train", "max_train_examples"} <= set(inspect.signature(MNLI).parameters)
    assert inspect.signature(QQP).parameters["skip_malformed"].default is True
    assert inspect.signature(MNLI).parameters["skip_malformed"].default is False
    assert list(inspect.signature(PAWS).parameters)[:2] == [
        "root",
        "variant",
    ]  # PAWS("x", "wiki") still works
    assert PAWS("x", "wiki").name == "paws_wiki" and isinstance(MNLI("m"), NLUSource)
    assert MNLI("m").cell_names == {} and QQP("q").prediction_maps == {}


# ------------------------------------------------------------------------------------------------ load/tokenise
def test_minilm_path_is_the_packaged_bert():
    path = minilm_path()
    config = json.loads((path / "config.json").read_text())
    assert config["model_type"] == "bert" and (path / "vocab.txt").is_file()


def test_mnli_load_serves_ood_as_extra_test_splits(tmp_path: Path):
    root = write_mnli(tmp_path / "MNLI")
    write_hans(root / "hans")
    src = MNLI(str(root), max_length=24, ood={"hans": HANS(str(root / "hans"))}, mismatched=True)
    splits = src.load()
    assert list(splits.test) == ["test", "test_mismatched", "test_hans"]
    assert splits.sizes() == {"train": 4, "val": 3, "test": 3, "test_mismatched": 2, "test_hans": 2}
    item = splits.train[1]
    assert set(item) == {"input_ids", "attention_mask", "token_type_ids", "labels", "idx"}
    assert item["input_ids"].shape == (24,) and item["input_ids"].dtype == torch.long
    assert int(item["labels"]) == 1 and int(item["idx"]) == 1 and splits.train.ids[1] == "101457e"
    tok = nlu.load_tokenizer(src.tokenizer_dir)
    assert tok.convert_ids_to_tokens(int(item["input_ids"][0])) == "[CLS]"
    types = item["token_type_ids"][item["attention_mask"].bool()]
    assert types[0] == 0 and types[-1] == 1  # premise segment 0, hypothesis segment 1
    hans = splits.test["test_hans"]
    assert hans.labels.tolist() == [0, 1] and hans.ids == ["ex0", "ex1"]
    assert hans.cells.tolist() == [0, 4] and int(hans[1]["cell"]) == 4  # entailment/subsequence
    assert "cell" not in item and splits.train.cells is None  # MNLI itself has no cells


def test_mix_train_appends_ood_training_data_with_duplicates(tmp_path: Path):
    root = write_mnli(tmp_path / "MNLI")
    write_hans(root / "hans")
    src = MNLI(
        str(root), max_length=16, mix_train={"hans": HANS(str(root / "hans"))}, mix_duplicates={"hans": 2}
    )
    train = src.load().train
    assert len(train) == 4 + 2 * 3
    assert train.ids[:5] == ["31193n", "101457e", "134793e", "37397e", "hans:ex0"]
    assert train.labels.tolist() == [2, 1, 1, 0] + [0, 1, 0] * 2  # HANS 0/1 = MNLI contradiction/entailment
    assert int(train[9]["idx"]) == 9


def test_lookup_aligns_by_id_and_names_missing_ids(tmp_path: Path):
    src = HANS(str(write_hans(tmp_path / "hans")), max_length=16)
    train = src.load().train
    table = {"ex2": -0.1, "ex0": -0.2, "ex1": -0.3}
    assert train.lookup(table, "bias log-prob") == [-0.2, -0.3, -0.1]
    with pytest.raises(
        DataError, match=r"bias.npy: 1 of 3 example ids .* have no bias log-prob, e.g. \['ex1'\]"
    ):
        train.lookup({"ex0": 0.0, "ex2": 0.0}, "bias log-prob", source="bias.npy")


def test_token_cache_hit_and_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls = []
    real = encoding._tokenize
    monkeypatch.setattr(encoding, "_tokenize", lambda *a, **k: calls.append(1) or real(*a, **k))
    cache = tmp_path / "cache"
    root = write_paws(tmp_path / "paws", "wiki")

    def load(max_length: int = 20) -> dict:
        return (
            PAWS(str(root), variant="wiki", max_length=max_length, cache_dir=str(cache)).load().train.encoded
        )

    first = load()
    assert len(calls) == 3 and len(list(cache.glob("paws_wiki-train-*.pt"))) == 1  # train, dev, test
    again = load()
    assert len(calls) == 3  # all three splits from the cache
    assert all(torch.equal(first[k], again[k]) for k in first)
    (path,) = cache.glob("paws_wiki-train-*.pt")
    path.write_bytes(path.read_bytes()[:100])  # truncated: unreadable
    rebuilt = load()
    assert len(calls) == 4 and all(torch.equal(first[k], rebuilt[k]) for k in first)
    payload = torch.load(path, weights_only=True)
    payload["input_ids"][0, 1] += 1  # readable but inconsistent: checksum mismatch
    torch.save(payload, path)
    load()
    assert len(calls) == 5 and not list(cache.glob(".*.tmp"))  # no temporary files left behind
    load(max_length=24)  # another length is another key
    assert len(calls) == 8 and len(list(cache.glob("paws_wiki-train-*.pt"))) == 2
    _replace_line(root / "train.tsv", 2, "1\tchanged text\tother text\t1")  # new content, new key
    load()
    assert len(calls) == 9


# ------------------------------------------------------------------------------------------------ configs
NLU_CONFIGS = sorted(p.stem for p in (CONF_DIR / "data" / "nlu").glob("*.yaml"))


def test_all_nine_nlu_configs_exist():
    assert NLU_CONFIGS == sorted(
        [
            "mnli",
            "hans",
            "qqp",
            "paws_qqp",
            "paws_wiki",
            "fever",
            "fever_symm1",
            "fever_symm2",
            "synthetic_nli",
        ]
    )


@pytest.mark.parametrize("name", NLU_CONFIGS)
def test_nlu_config_composes_without_touching_disk(train_cfg, name: str, tmp_path: Path):
    cfg = train_cfg([f"data=nlu/{name}", f"paths.data_dir={tmp_path / 'absent'}"])
    validate(cfg)
    dm = hydra.utils.instantiate(cfg.data)
    assert isinstance(dm, DataModule) and dm.num_classes == dm.dataset.num_classes
    assert list(dm.input_shape) == list(cfg.data.input_shape) == [dm.dataset.max_length]
    assert not (tmp_path / "absent").exists()
    if name in ("mnli", "qqp", "fever"):
        assert len(dm.dataset.ood) == (1 if name == "mnli" else 2)


def test_config_typo_in_reader_args_is_caught(train_cfg):
    cfg = train_cfg(["data=nlu/qqp", "+data.dataset.max_lenght=64"])
    with pytest.raises(ConfigError, match=r"data.dataset.max_lenght.*did you mean 'max_length'"):
        validate(cfg)
