"""The generated docs: REPORT.md, the GPU and cpu records, bench pages, Colab links (scripts/update_docs.py)."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_report_gives_every_claim_the_papers_words_and_each_profiles_verdict(tmp_path, monkeypatch):
    """docs/REPORT.md is generated from the records: one entry per claim with the paper's section and words,
    each profile's status with its effect and spread; a claim without the paper's words stops the generator."""

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



def test_colab_links_are_built_from_the_repository_address(tmp_path):
    """README's "Open in Colab" links: one per notebook from CITATION.cff's repository-code; none (and how to get
    them) while it names no GitHub repository."""

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

    import jupytext

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
