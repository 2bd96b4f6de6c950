# Regenerates notebooks/review.ipynb (cells kept as code here so the notebook diff stays reviewable):
#   .venv/bin/python scripts/make_review_notebook.py
import nbformat as nbf

nb = nbf.v4.new_notebook()
md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
nb.cells = [
    md("""# compresslab — results review

Reads exactly what `compresslab-table` reads: the `metrics.json` of every real run under the log directory (runs say
which paper table and row they feed through their `paper:` config node; debug runs are skipped) and the generated
files under `results/`, whose index lists every paper claim with its verdict.
Run the reproduction scripts first (`bash scripts/reproduce_*.sh`), or point `COMPRESSLAB_LOG_DIR` at a copy of
someone else's `logs/`. Executed headless by `tests/test_notebook.py`, so it never rots."""),
    code("""import io
import os
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import Image, Markdown, display

from compresslab.tables import TABLES
from compresslab.tables.common import mean_std, table_runs
from compresslab.utils.hydra_app import PROJECT_ROOT

LOG_DIR = Path(os.environ.get("COMPRESSLAB_LOG_DIR", PROJECT_ROOT / "logs"))
RESULTS = Path(os.environ.get("COMPRESSLAB_RESULTS_DIR", PROJECT_ROOT / "results"))
print(f"runs from {LOG_DIR} ({len(list(LOG_DIR.glob('**/metrics.json')))} metrics.json), results in {RESULTS}")"""),
    md("## Index of tables and figures"),
    code("""index = RESULTS / "README.md"
display(Markdown(index.read_text() if index.exists() else "_no results/README.md yet: run `compresslab-table all`_"))"""),
    md("## Every table (the files `compresslab-table` wrote)"),
    code("""for name, (_build, source) in TABLES.items():
    path = RESULTS / f"{name}.md"
    if path.exists():
        text = path.read_text().replace(f"]({name}.png)", f"]({RESULTS / name}.png)")
        display(Markdown(text))
    else:
        display(Markdown(f"**{name}** ({source}): not generated yet — `compresslab-table {name}`"))"""),
    md("## Trained cells as plots"),
    code("""def accuracy_by(table, key):
    groups = {}
    for run in table_runs(LOG_DIR, table):  # real runs only: debug / fast-dev-run runs are skipped
        acc = run.metric("test/acc")
        if acc is not None:
            groups.setdefault(key(run), []).append(100 * acc)
    return {k: mean_std(v) + (len(v),) for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))}


panels = {
    "RNNPool Table 2 (reduced)": accuracy_by(
        "rnnpool_table2",
        lambda r: f"{r.get('model.net.downsample')}{'+last' if r.get('model.net.last_layer_rnnpool') else ''}",
    ),
    "Learngene ICT (reduced)": accuracy_by("learngene_ict", lambda r: int(r.get("model.net.active"))),
    "Learngene bases (reduced)": accuracy_by(
        "learngene_bases", lambda r: f"{r.get('model.net.basis')}/{r.get('model.net.index')}"
    ),
}
panels = {k: v for k, v in panels.items() if v}
if panels:
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), squeeze=False)
    for ax, (title, data) in zip(axes[0], panels.items()):
        labels = [str(k) for k in data]
        ax.bar(labels, [m for m, _, _ in data.values()], yerr=[s for _, s, _ in data.values()], capsize=3)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("test acc % (mean ± std over seeds)")
        ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)  # explicit PNG: works with any backend, headless included
    plt.close(fig)
    display(Image(data=buf.getvalue()))
else:
    print("no trained runs under", LOG_DIR)"""),
    md("""## Accuracy vs cost (Pareto)

Accuracy (mean ± std over seeds) against MAdds and analytic peak RAM for the trained models of a table
(`<table>_pareto.png`, written by `compresslab-table`); the dashed line is the Pareto front."""),
    code("""paretos = sorted(RESULTS.glob("*_pareto.png"))
for png in paretos:
    display(Markdown(f"**{png.stem}**"), Image(filename=str(png)))
print(f"{len(paretos)} Pareto figure(s)")"""),
    md("## Other figures written by the tables"),
    code("""pngs = sorted(p for p in RESULTS.glob("*.png") if not p.stem.endswith("_pareto"))
for png in pngs:
    display(Markdown(f"**{png.stem}**"), Image(filename=str(png)))
print(f"{len(pngs)} figure(s)")"""),
]
nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
nbf.write(nb, "notebooks/review.ipynb")
