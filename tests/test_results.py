"""Results files, the cache that makes reruns resume, the claims record, and setup consistency."""
import json
import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import depthrep.results  # noqa: E402
import depthrep_utils as du  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_claims_record_upserts_and_renders(results):
    kw = dict(text="m_i grows", figure="Fig. 2", model="ResNet50", image="dalmatian", sizes="64 px")
    du.record_claim("fig2", profile="quick", numbers={"m_i": [1.0, 2.5]}, status="holds", **kw)
    du.record_claim("fig2", profile="paper", numbers={"m_i": [1.0]}, status="does not hold", **kw)
    du.record_claim("fig2", profile="quick", numbers={"m_i": [3.0]}, status="holds", **kw)
    rows = json.loads((results / "claims.json").read_text())
    assert [(r["claim"], r["profile"]) for r in rows] == [("fig2", "paper"), ("fig2", "quick")]
    assert rows[1]["numbers"] == {"m_i": [3.0]}
    md = (results / "claims.md").read_text()
    assert md.count("**fig2**") == 2 and "does not hold" in md
    assert not [p for p in results.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_claim_status_is_checked(results):
    kw = dict(claim="x", text="t", figure="f", profile="quick", model="m", image="i", sizes="s", numbers={})
    with pytest.raises(ValueError, match="status"):
        du.record_claim(status="maybe", **kw)
    with pytest.raises(ValueError, match="reason"):
        du.record_claim(status="not measured", **kw)


def test_save_json_and_fig(results):
    path = du.save_json({"a": float("nan"), "b": [1, 2]}, "nb", "numbers")
    assert json.loads(path.read_text()) == {"a": None, "b": [1, 2]}
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    png = du.save_fig(fig, "nb", "plot")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_atomic_write_keeps_old_file_on_failure(results):
    path = du.save_json({"v": 1}, "nb", "keep")
    with pytest.raises(TypeError):
        du.save_json({"v": object()}, "nb", "keep")
    assert json.loads(path.read_text()) == {"v": 1}


def test_cache_resumes_without_recomputing(results):
    calls = []

    def compute():
        calls.append(1)
        return {"x": 3}

    assert du.cached("nb", "thing", {"k": 1}, compute) == {"x": 3}
    assert du.cached("nb", "thing", {"k": 1}, compute) == {"x": 3}
    assert len(calls) == 1
    du.cached("nb", "thing", {"k": 2}, compute)
    assert len(calls) == 2
    assert len(list((results / "nb" / "cache").glob("thing-*.json"))) == 2


def test_cache_key_covers_the_code(results, monkeypatch):
    """A value computed by other code is never served: a changed compute function or library recomputes."""
    first = du.cached("nb", "v", {"k": 1}, lambda: {"x": 1.0})
    assert du.cached("nb", "v", {"k": 1}, lambda: {"x": 1.0}) == first  # same code: served from the cache
    assert du.cached("nb", "v", {"k": 1}, lambda: {"x": 2.0}) == {"x": 2.0}  # other code: recomputed
    monkeypatch.setattr(depthrep.results, "code_version", lambda: "another library")
    assert du.cached("nb", "v", {"k": 1}, lambda: {"x": 1.0, "new": True}) == {"x": 1.0, "new": True}
    assert len(list((results / "nb" / "cache").glob("v-*.pt"))) == 3


def test_code_version_covers_every_module_that_computes():
    """The cache key leaves out only the presentation modules, and no computing module imports them (so no
    cached computation runs code the key does not cover); any other module's source is in the key."""
    import ast

    package = ROOT / "depthrep"
    left_out = {m.removesuffix(".py") for m in depthrep.results.PRESENTATION_MODULES}
    for path in package.glob("*.py"):
        if path.name in depthrep.results.PRESENTATION_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [f"{node.module}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom)
                     and node.module else [])
            hit = [n for n in names if set(n.split(".")[1:2]) & left_out and n.startswith("depthrep")]
            assert not hit, f"{path.name} imports {hit}: a computing module must not use presentation code"
    computing = sorted(p.name for p in package.glob("*.py") if p.name not in depthrep.results.PRESENTATION_MODULES)
    assert {"inversion.py", "blur.py", "updates.py", "search.py", "speed.py", "peers.py", "metrics.py", "models.py",
            "layers.py", "experiments.py"} <= set(computing)


def test_cache_files_are_loaded_without_running_their_code(results, tmp_path):
    """A results cache from someone else cannot execute code when it is read (weights_only=True)."""
    import torch

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    value = {"inversion": du.Inversion(torch.zeros(1, 3, 2, 2), *[np.zeros(1)] * 5), "arr": np.arange(3)}
    calls = []

    def compute():
        calls.append(1)
        return value

    du.cached("nb", "ok", {}, compute)
    loaded = du.cached("nb", "ok", {}, compute)
    assert calls == [1]
    assert isinstance(loaded["inversion"], du.Inversion) and loaded["arr"].tolist() == [0, 1, 2]
    bad = tmp_path / "bad.pt"
    torch.save({"x": Payload()}, bad)
    with pytest.raises(Exception, match="Weights only load failed"):
        du.load_safely(bad)
    assert not (tmp_path / "pwned").exists()


def test_requirements_and_environment_name_the_same_packages():
    pip = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pip[name.strip().lower()] = version.strip()
    conda = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s*-\s+([A-Za-z0-9_.-]+)\s*(==|=)\s*([0-9][0-9.]*)", line)
        if m and m.group(1) != "python":
            conda[{"pytorch": "torch"}.get(m.group(1), m.group(1)).lower()] = m.group(3)
    assert set(conda) == set(pip)
    for name, version in conda.items():
        assert pip[name].startswith(version), (name, version, pip[name])


def test_check_claim_records_the_measured_verdict(results, capsys):
    kw = dict(text="t", figure="f", profile="quick", model="m", image="i", sizes="s")
    assert du.check_claim("a", numbers={"x": 1.23456}, holds=True, **kw) is True
    assert du.check_claim("b", numbers={"x": 2.0}, holds=False, **kw) is False
    rows = {r["claim"]: r["status"] for r in json.loads((results / "claims.json").read_text())}
    assert rows == {"a": "holds", "b": "does not hold"}
    assert "a: holds  x = 1.23" in capsys.readouterr().out


def test_a_claim_over_runs_that_missed_their_embedding_is_inconclusive(results):
    kw = dict(text="t", figure="f", profile="quick", model="m", image="i", sizes="s", numbers={"m_i": [1, 2]})
    good, missed = dict(m_g=1.0, m_s=2.0, m_i=5.0), dict(m_g=3.0, m_s=2.0, m_i=9.0)
    # Whatever the comparison says, one unconverged run makes the claim inconclusive, never "does not hold".
    for holds in (True, False):
        assert du.check_claim("c", holds=holds, runs={"conv1": good, "conv5": missed}, **kw) is None
        row = json.loads((results / "claims.json").read_text())[0]
        assert row["status"] == "inconclusive" and "conv5 (m_g 3 >= m_s 2)" in row["why"] and "1 of 2" in row["why"]
    assert du.check_claim("c", holds=False, runs={"conv1": good}, **kw) is False  # converged: a real verdict
    claims = du.Claims("quick", "i", "s")
    assert claims.check("d", "t", "f", "m", {}, True, runs={"conv5": missed}) is None and claims["d"] is None
    with pytest.raises(ValueError, match="reason"):
        du.record_claim("e", status="inconclusive", **kw)
    assert "NOT matched" in du.run_title(missed) and "NOT matched" not in du.run_title(good)


def test_a_claim_the_budget_cannot_test_is_below_scale(results):
    kw = dict(text="t", figure="f", profile="quick", model="m", image="i", sizes="s", numbers={"m_i": [1, 2]})
    good, missed = dict(m_g=1.0, m_s=2.0), dict(m_g=3.0, m_s=2.0)
    for holds in (True, False):
        assert du.check_claim("g", holds=holds, below_scale="needs > 400 steps", runs={"a": good}, **kw) is None
        row = json.loads((results / "claims.json").read_text())[0]
        assert row["status"] == "below scale" and row["why"] == "needs > 400 steps"
    du.check_claim("g", holds=True, below_scale="needs > 400 steps", runs={"a": missed}, **kw)
    assert json.loads((results / "claims.json").read_text())[0]["status"] == "inconclusive"  # unmatched first
    with pytest.raises(ValueError, match="reason"):
        du.record_claim("h", status="below scale", **kw)


def status_of(results, claim):
    return {r["claim"]: r for r in json.loads((results / "claims.json").read_text())}[claim]


def test_layer_run_key_holds_every_argument_of_the_run():
    """The key of a cached layer run is built from visualize_layer's own signature: no argument can be left out
    (blur, normalize, the shift sigma, ...), and each one changes the key, as do the weights and the target."""
    import inspect

    import torch

    model = du.make_mlp([48, 48], seed=0)
    target = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    base = du.layer_run_config(model, "1", target, 20, [0.1, 0.01], blur=None)
    params = set(inspect.signature(du.visualize_layer).parameters) - {"invert_kwargs"}
    assert set(base) == params, set(base) ^ params
    changed = dict(layer="2", steps=21, step_sizes=[0.1], blur=(1.0, 0.5), decay_to=None, seed=1, shift_sigma=0.1,
                   normalize=True)
    assert set(changed) | {"model", "target"} == params
    for name, value in changed.items():
        args = dict(layer="1", steps=20, step_sizes=[0.1, 0.01], blur=None) | {name: value}
        other = du.layer_run_config(model, args.pop("layer"), target, args.pop("steps"), args.pop("step_sizes"),
                                    args.pop("blur"), **args)
        assert other != base and other[name] != base[name], name
    assert du.layer_run_config(model, "1", target, 20, [0.1, 0.01], None, clamp=True)["clamp"] is True
    assert du.layer_run_config(model, "1", target, 20, [0.1, 0.01], (1.0, 0.5)) != du.layer_run_config(
        model, "1", target, 20, [0.1, 0.01], (1.0, 0.4))  # the sigmas themselves are in the key
    assert du.layer_run_config(du.make_mlp([48, 48], seed=1), "1", target, 20, [0.1, 0.01], None) != base
    resnet = du.load_resnet(18)  # BatchNorm's 0-dim counters are part of the fingerprint too
    assert du.fingerprint(resnet) == du.fingerprint(du.load_resnet(18)) != du.fingerprint(du.load_resnet(18, seed=1))
    assert du.layer_run_config(model, "1", target + 0.01, 20, [0.1, 0.01], None) != base
    with torch.no_grad():
        model[1].bias.add_(1.0)  # weights changed in place: a new fingerprint
    assert du.layer_run_config(model, "1", target, 20, [0.1, 0.01], None) != base


def test_layer_run_caches_and_separates_blur(results):
    import torch

    model = du.make_mlp([48, 48], seed=0)
    target = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    plain = du.layer_run("nb", "run", model, "1", target, 30, [0.1, 0.01], blur=None)
    again = du.layer_run("nb", "run", model, "1", target, 30, [0.1, 0.01], blur=None)
    blurred = du.layer_run("nb", "run", model, "1", target, 30, [0.1, 0.01], blur=(0.5, 0.3))
    assert again["seconds"] == plain["seconds"]  # loaded, not recomputed
    assert blurred["m_i"] != plain["m_i"]
    assert len(list((results / "nb" / "cache").glob("run-*.pt"))) == 2
    assert "m_g=" in du.run_line(plain) and f"{plain['runs']} runs" in du.run_line(plain)


def test_report_gives_every_claim_the_papers_words_and_each_profiles_verdict(tmp_path, monkeypatch):
    """docs/REPORT.md is generated from the records: one entry per claim with the paper's section and words,
    each profile's status with its effect and spread; a claim without the paper's words stops the generator."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import update_docs
    from paper_claims import CLAIMS

    kw = dict(text="m_i grows", figure="Fig. 2", model="ResNet50", image="dalmatian", sizes="64 px")
    quick, cpu = tmp_path / "quick.json", tmp_path / "cpu.json"
    rows = {"fig2_untrained_depth": dict(status="holds", why="", numbers={
        "effect": "Spearman", "effect per replicate": {"seed 0": 1.0}, "effect min, median, max": [0.9, 1.0, 1.0],
        "replicates in the paper's direction": "5 of 5"}),
        "figS2_conditioning": dict(status="does not hold", why="median 3.7e4", numbers={"median": 3.7e4}),
        "relu_growth_needed": dict(status="does not hold", why="", numbers={}),  # one with published results
        "beyond_non_unique_vit": dict(status="does not hold", why="", numbers={}),  # this reproduction's question
        "procedure_depth_trend_vit": dict(status="holds", why="", numbers={})}
    quick.write_text(json.dumps([dict(claim=c, profile="quick", **kw, **r) for c, r in rows.items()]))
    cpu.write_text(json.dumps([dict(claim="fig4_conv2", profile="cpu", status="below scale", why="needs 5000 steps",
                                    numbers={}, **kw)]))
    monkeypatch.setattr(update_docs, "RECORDS", (("quick", "64 px", quick), ("cpu", "80 px", cpu)))
    text = update_docs.report()
    for claim in ("fig2_untrained_depth", "figS2_conditioning", "fig4_conv2"):
        assert f"### {claim}" in text and CLAIMS[claim][1][:40] in text
    assert "0.9 / 1 / 1 (min / median / max), 5 of 5 in the paper's direction" in text
    contradicted = text.split("## Where the paper is contradicted")[1].split("## What this")[0]
    assert "figS2_conditioning" in contradicted and "fig2_untrained_depth" not in contradicted
    reproduces = text.split("## What reproduces")[1].split("## Where")[0]
    beyond = text.split("## Beyond the paper's statements")[1]
    assert "beyond_non_unique_vit" not in contradicted and "procedure_depth_trend_vit" not in reproduces
    assert "**beyond_non_unique_vit**" in beyond.split("Do not hold")[1]
    assert "**procedure_depth_trend_vit**" in beyond.split("Do not hold")[0]
    assert "fig4_conv2**: cpu: below scale (needs 5000 steps)" in text.split("## What this reproduction")[1]
    published = text.split("## Published results beside ours")[1].split("## Claims, one by one")[0]
    assert "Puthawala" in published and "3.4 and 10.5" in published and "This record: quick: does not hold" in published
    assert "Hopcroft" not in published  # only claims the records hold
    assert "**Published results**" in text.split("### relu_growth_needed")[1].split("###")[0]
    from paper_claims import LITERATURE
    assert set(LITERATURE) <= set(CLAIMS)  # every entry sits beside a claim of the paper
    quick.write_text(json.dumps([dict(claim="new_claim", profile="quick", status="holds", why="", numbers={}, **kw)]))
    with pytest.raises(SystemExit, match="new_claim"):
        update_docs.report()


def test_gpu_records_merge_by_claim_and_keep_every_run(tmp_path):
    """docs/gpu/ gathers paper-profile runs made one notebook per folder: a new row replaces the same claim's
    old row, other claims' rows stay, rows of another profile are not taken, every run's log entry (an
    interrupted one too) is appended, and the figures are copied."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import update_docs

    kw = dict(text="t", figure="Fig. 2", model="m", image="dalmatian", sizes="299 px", numbers={}, why="")
    dest = tmp_path / "gpu"
    dest.mkdir()
    (dest / "claims.json").write_text(json.dumps([dict(claim="a", profile="paper", status="holds", **kw),
                                                  dict(claim="b", profile="paper", status="holds", **kw)]))
    (dest / "runs.json").write_text(json.dumps([dict(notebook="01", profile="paper", status="ok")]))
    one, two = tmp_path / "02", tmp_path / "03"
    (one / "02").mkdir(parents=True)
    two.mkdir()
    (one / "claims.json").write_text(json.dumps([dict(claim="b", profile="paper", status="does not hold", **kw),
                                                 dict(claim="c", profile="quick", status="holds", **kw)]))
    (one / "runs.json").write_text(json.dumps([dict(notebook="02", profile="paper", status="ok")]))
    (one / "02" / "fig.png").write_bytes(b"png")
    (two / "runs.json").write_text(json.dumps([dict(notebook="03", profile="paper", status="interrupted")]))
    update_docs.merge_record([one, two], "paper", dest)
    rows = {r["claim"]: r["status"] for r in json.loads((dest / "claims.json").read_text())}
    assert rows == {"a": "holds", "b": "does not hold"}
    runs = json.loads((dest / "runs.json").read_text())
    assert [(r["notebook"], r["status"]) for r in runs] == [("01", "ok"), ("02", "ok"), ("03", "interrupted")]
    assert (dest / "fig.png").read_bytes() == b"png" and "does not hold" in (dest / "claims.md").read_text()


def test_cpu_record_replaces_the_committed_one_with_its_figures(tmp_path):
    """docs/cpu/ is one whole `make reproduce PROFILE=cpu` run: its record, run log and figures replace the old
    ones, a figure the new run no longer draws is gone, and a record holding another profile is refused."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import update_docs

    kw = dict(text="t", figure="Fig. 2", model="m", image="dalmatian", sizes="64 px", numbers={}, why="")
    dest, run = tmp_path / "cpu", tmp_path / "run"
    dest.mkdir()
    (run / "01").mkdir(parents=True)
    (dest / "old_figure.png").write_bytes(b"old")
    (dest / "runs.json").write_text(json.dumps([dict(notebook="01", profile="cpu", status="ok", seconds=1)]))
    (run / "claims.json").write_text(json.dumps([dict(claim="a", profile="cpu", status="holds", **kw)]))
    (run / "claims.md").write_text("a holds")
    (run / "runs.json").write_text(json.dumps([dict(notebook="01", profile="cpu", status="ok", seconds=2)]))
    (run / "01" / "fig.png").write_bytes(b"new")
    update_docs.copy_record(run, "cpu", dest, with_figures=True)
    assert sorted(p.name for p in dest.glob("*.png")) == ["fig.png"]
    assert json.loads((dest / "runs.json").read_text())[0]["seconds"] == 2
    assert json.loads((dest / "claims.json").read_text())[0]["status"] == "holds"
    (run / "claims.json").write_text(json.dumps([dict(claim="a", profile="quick", status="holds", **kw)]))
    with pytest.raises(SystemExit, match="not only cpu"):
        update_docs.copy_record(run, "cpu", dest, with_figures=True)
    assert (dest / "fig.png").exists()  # a refused record leaves the committed one as it was


def test_bench_peers_page_compares_each_peer_with_the_projects_fastest_row(tmp_path):
    """docs/SPEED.md's peer table: every project row is ours (however many), every other row a peer, and each
    peer's time to m_g < m_s is given over the fastest project row's."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import update_docs

    def row(case, to_reach):
        return dict(case=case, seconds=1.0, seconds_per_step=0.01, m_g_over_m_s=0.5, m_i=1.0, m_i_over_start=0.5,
                    to_reach=to_reach)

    rows = [row("project, paper's update", 8.0), row("project, Adam", 2.0), row("project, momentum", 1.0),
            row("project, Fourier", None), row("lucent (pixel)", 4.0), row("bdpy", 3.0)]
    path = tmp_path / "peers.json"
    path.write_text(json.dumps(dict(size=80, steps=250, threads=2, torch="x", layers={"conv2": dict(m_s=5.0,
                                                                                                     rows=rows)})))
    text = update_docs.bench_peers(path)
    ratios = text.split("over the project's fastest: ")[1]
    assert ratios.startswith("lucent: 4.0x; bdpy: 3.0x"), ratios
    assert "project" not in ratios
    assert update_docs.bench_peers(tmp_path / "missing.json") is None


def test_bench_peers_takes_the_median_of_its_repeats_and_reaches_only_when_most_did():
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_peers import median_rows

    def row(seconds, to_reach):
        return dict(case="x", seconds=seconds, seconds_per_step=seconds / 10, to_reach=to_reach, m_i=1.0)

    (got,) = median_rows([[row(3.0, 1.0)], [row(1.0, None)], [row(2.0, 3.0)]])
    assert got["seconds"] == 2.0 and got["seconds_per_step"] == 0.2 and got["to_reach"] == 2.0
    assert got["seconds_each"] == [3.0, 1.0, 2.0] and got["repeats"] == 3
    (once,) = median_rows([[row(3.0, 1.0)], [row(1.0, None)], [row(2.0, None)]])
    assert once["to_reach"] is None  # one repeat of three reached m_g < m_s: not this row's time


def test_colab_links_are_built_from_the_repository_address(tmp_path):
    """README's "Open in Colab" links: one per notebook from CITATION.cff's repository-code; none (and how to get
    them) while it names no GitHub repository."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import update_docs

    citation = tmp_path / "CITATION.cff"
    citation.write_text("cff-version: 1.2.0\ntitle: x\n")
    assert update_docs.repository_url(citation) is None
    assert "repository-code" in update_docs.colab_links(None) and "colab.research" not in update_docs.colab_links(None)
    citation.write_text("title: x\nrepository-code: \"https://github.com/someone/depth-rep.git\"\n")
    url = update_docs.repository_url(citation)
    text = update_docs.colab_links(url, ["01_a.ipynb", "02_b.ipynb"])
    lines = text.splitlines()
    assert len(lines) == 2 and lines[1].startswith("- [02_b](https://colab.research.google.com/github/someone/"
                                                   "depth-rep/blob/main/notebooks/02_b.ipynb)")
    assert "depth-rep.git" not in text


def test_update_docs_copies_the_address_into_every_colab_cell(tmp_path, monkeypatch):
    """CITATION.cff's repository-code is written once; update_docs copies it into each notebook's Colab cell, .py and
    .ipynb alike (the pair stays in sync), and a second run changes nothing."""
    import shutil
    import sys

    import jupytext

    sys.path.insert(0, str(ROOT / "scripts"))
    import update_docs

    (tmp_path / "notebooks").mkdir()
    for suffix in (".py", ".ipynb"):
        shutil.copy(ROOT / "notebooks" / f"04_relu_width{suffix}", tmp_path / "notebooks")
    (tmp_path / "CITATION.cff").write_text("cff-version: 1.2.0\nrepository-code: https://github.com/o/depthrep\n")
    monkeypatch.setattr(update_docs, "ROOT", tmp_path)
    url = update_docs.repository_url(tmp_path / "CITATION.cff")
    assert url == "https://github.com/o/depthrep"
    assert [p.name for p in update_docs.set_notebook_repository(url)] == ["04_relu_width.py"]
    for suffix in (".py", ".ipynb"):
        cells = jupytext.read(tmp_path / "notebooks" / f"04_relu_width{suffix}").cells
        assert "REPOSITORY = 'https://github.com/o/depthrep'  #" in cells[1].source, suffix
    assert update_docs.set_notebook_repository(url) == []
