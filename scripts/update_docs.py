"""Write the generated sections of README.md and docs/ from the measured runs: the claims summary and the
`make test` time (README.md); the claim counts, the figure gallery and the runtimes (docs/RESULTS.md,
figures copied to docs/figures/); the benchmark tables (docs/SPEED.md).

    python scripts/update_docs.py [--results results] [--make-test "19 min 30 s"] [--cpu build/cpu]
        [--gpu results-gpu/02_non_uniqueness results-gpu/04_relu_width ...]

Each section between `<!-- BEGIN name -->` and `<!-- END name -->` is replaced; run after
`make reproduce PROFILE=quick` (claims, figures, runtimes) or `make bench` (bench). The cpu profile's run
lives in docs/cpu/, the GPU's in docs/gpu/. A section whose results are missing is left as it is.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def status_counts(results: Path) -> str | None:
    """One line: how many claims hold, do not hold, are inconclusive or not measured."""
    import depthrep_utils as du

    if not (results / "claims.json").exists():
        return None
    rows = json.loads((results / "claims.json").read_text())
    counts = [f"{sum(r['status'] == s for r in rows)} {s}" for s in du.CLAIM_STATUSES]
    return f"{len(rows)} claims: " + ", ".join(counts) + "."


def figures(results: Path) -> str | None:
    """Copy every results/<notebook>/*.png to docs/figures/ (committed, so GitHub shows them) and link it
    (from docs/RESULTS.md)."""
    if not any(results.glob("*/*.png")):
        return None
    lines = []
    for png in sorted(results.glob("*/*.png")):
        copy = ROOT / "docs" / "figures" / f"{png.parent.name}__{png.name}"
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, copy)
        lines.append(f"**{png.parent.name} / {png.stem}**\n\n![{png.stem}]({copy.relative_to(ROOT / 'docs')})\n")
    return "\n".join(lines)


def _latest_runs(path: Path, profile: str) -> dict[str, dict]:
    """The latest run of each notebook at ``profile`` in a runs.json (a successful one if there is one),
    leaving out reruns served from the cache (under a fifth of the notebook's longest successful run)."""
    if not path.exists():
        return {}
    runs = [r for r in json.loads(path.read_text()) if r["profile"] == profile]
    longest: dict[str, float] = {}
    for r in runs:
        if r["status"] == "ok":
            longest[r["notebook"]] = max(longest.get(r["notebook"], 0.0), r["seconds"])
    latest: dict[str, dict] = {}
    for r in runs:
        if r["status"] == "ok" and r["seconds"] < 0.2 * longest[r["notebook"]]:
            continue
        old = latest.get(r["notebook"])
        if old is None or r["status"] == "ok" or old["status"] != "ok":
            latest[r["notebook"]] = r
    return latest


def runtimes(results: Path) -> str | None:
    """Seconds per notebook at each profile: quick and cpu on this machine's CPU (results/runs.json,
    docs/cpu/runs.json), paper on a GPU (docs/gpu/runs.json)."""
    columns = {"quick (2-core CPU)": _latest_runs(results / "runs.json", "quick"),
               "cpu (2-core CPU)": _latest_runs(ROOT / "docs" / "cpu" / "runs.json", "cpu"),
               "paper (GPU)": _latest_runs(ROOT / "docs" / "gpu" / "runs.json", "paper")}
    columns = {name: runs for name, runs in columns.items() if runs}  # a profile never run here: no column
    names = sorted({n for runs in columns.values() for n in runs})
    if not names:
        return None

    def cell(r: dict | None) -> str:
        if r is None:
            return "not measured"
        how = f"{r['seconds']:.0f} s" if r["status"] == "ok" else f"{r['status']} after {r['seconds']:.0f} s"
        return f"{how} ({r['threads']} thread{'s' if r['threads'] > 1 else ''}, peak {r['peak_rss_mb']:.0f} MB)"

    lines = ["| notebook | " + " | ".join(columns) + " |", "| --- |" + " --- |" * len(columns)]
    lines += [f"| {n} | " + " | ".join(cell(runs.get(n)) for runs in columns.values()) + " |" for n in names]
    totals = []
    for runs in columns.values():
        ok = [r["seconds"] for r in runs.values() if r["status"] == "ok"]
        totals.append(f"{sum(ok) / 60:.1f} min ({len(ok)} notebook{'s' if len(ok) > 1 else ''})" if ok
                      else "not measured")
    lines.append("| sum of the rows | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def bench(path: Path) -> str | None:
    """The rows, targets and iteration counts of a bench.json written by scripts/bench.py."""
    if not path.exists():
        return None
    b = json.loads(path.read_text())
    best, peak = b["best_matmul_flops_per_second"], b.get("theoretical_peak_flops_per_second")
    lines = [f"Device: {b['device']} ({b['device_name']}, {b['threads']} threads), torch {b['torch']}, {b['model']}. "
             f"Floor rate: the best float32 matrix multiply of the whole run, {best / 1e9:,.0f} GFLOP/s; theoretical "
             + (f"peak {peak / 1e9:,.0f} GFLOP/s ({b['peak_formula']}), best / peak {best / peak:.2f}. " if peak else
                "peak unknown. ")
             + f"Load average (1, 5, 15 min) before {b['load_average_before']}, after {b['load_average_after']}. "
             f"Seconds per step: median of {b['repeats']} runs of {b['steps']} steps, after the first step; "
             "GFLOP/s*: the rate measured right after the row's repeats.", "",
             "| case | px | layer | batch | s / step | s / run-step | floor s | x floor | speed-up vs naive | peak MiB "
             "| GFLOP/s* |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in b["rows"]:
        lines.append(f"| {r['case']} | {r['size']} | {r['layer']} | {r['batch']} | {r['seconds_per_step']:.4f} | "
                     f"{r['seconds_per_run_step']:.4f} | {r['floor_seconds']:.3g} | {r['ratio_to_floor']:.2f} | "
                     f"{r['speedup_over_naive']:.2f} | {r['peak_mib']:.0f} | {r['matmul_flops_per_second'] / 1e9:,.0f} |")
    lines += ["", "| target | measured | met |", "| --- | --- | --- |"]
    lines += [f"| {t['target']} | {t['value']:.2f} | {'yes' if t['met'] else '**no**'} |" for t in b["targets"]]
    if b.get("operators"):
        lines += ["", "Where a step's time goes (torch.profiler; own time of each operator, the cost of the steps alone): "
                  "share of the step, and for the forward pass and the input gradient their FLOP rate as a share of "
                  "the best rate; then the three costliest operators.", "",
                  "| layer | px | batch | s / step | forward | input gradient | loss, update, blur, record | costliest operators |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for o in b["operators"]:
            ph = {p["phase"]: p for p in o["phases"]}

            def part(k: str) -> str:
                rate = ph[k]["rate_to_best"]
                return f"{ph[k]['share']:.0%}" + (f" at {rate:.2f}" if rate else "")
            top = "; ".join(f"{r['op'].removeprefix('aten::')} ({r['phase']}) {r['share']:.0%}" for r in o["operators"][:3])
            lines.append(f"| {o['layer']} | {o['size']} | {o['batch']} | {o['seconds_per_step']:.4f} | {part('forward')} | "
                         f"{part('backward')} | {part('other')} | {top} |")
    if b["iterations"]:
        it = b["iterations"][0]
        lines += ["", f"Iterations until m_g < m_s ({it['image']}, {it['size']} px, eq. 4, step size from a line search and "
                  f"decaying to 0 over {it['budget']} steps):", "",
                  "| layer | update | step size | m_s | final m_g | iterations | seconds |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in b["iterations"]:
            reached = ("not reached", "-") if r["iterations"] is None else (r["iterations"], f"{r['seconds']:.1f}")
            name = "paper (gradient step)" if r.get("update", r.get("optimizer")) == "sgd" else "Adam (optional)"
            lines.append(f"| {r['layer']} | {name} | {r.get('step_size', r.get('lr')):.3g} | {r['m_s']:.1f} | {r['m_g']:.1f} | "
                         f"{reached[0]} | {reached[1]} |")
    return "\n".join(lines)


def bench_peers(path: Path) -> str | None:
    """The rows of a bench_peers.json written by scripts/bench_peers.py, and each peer's time to m_g < m_s over
    the project's fastest row's."""
    from bench_peers import peer_ratios  # the one rule for which rows are the project's

    if not path.exists():
        return None
    b = json.loads(path.read_text())
    lines = [f"{b['size']} px, {b['steps']} steps, on {b.get('device', 'cpu')} ({b['threads']} CPU thread(s)), "
             f"torch {b['torch']}; each row the median of {b.get('repeats', 1)} interleaved repeat(s).", ""]
    for layer, got in b["layers"].items():
        lines += [f"**{layer}** (m_s = {got['m_s']:.4g})", "",
                  "| case | seconds | s / step | m_g / m_s | m_i | m_i / start distance | seconds to m_g < m_s |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in got["rows"]:
            to = "never" if r["to_reach"] is None else f"{r['to_reach']:.2f}"
            lines.append(f"| {r['case']} | {r['seconds']:.2f} | {r['seconds_per_step']:.4f} | {r['m_g_over_m_s']:.3f} | "
                         f"{r['m_i']:.2f} | {r['m_i_over_start']:.3f} | {to} |")
        ratios = [f"{r['case'].split(' (')[0]}: {ratio:.1f}x" for r, ratio in peer_ratios(got["rows"])[1]
                  if ratio is not None]
        lines += ["", "Time to m_g < m_s over the project's fastest: " + ("; ".join(ratios) if ratios else "no ratio")
                  + ".", ""]
    return "\n".join(lines).strip()


def claim_summary() -> str | None:
    """Counts per status for each profile that has a record (docs/quick, docs/cpu, docs/gpu)."""
    import depthrep_utils as du

    lines = ["| profile | claims | " + " | ".join(du.CLAIM_STATUSES) + " |",
             "| --- | --- |" + " --- |" * len(du.CLAIM_STATUSES)]
    for name, label, path in RECORDS:
        if path.exists():
            rows = json.loads(path.read_text())
            lines.append(f"| {name} ({label}) | {len(rows)} | "
                         + " | ".join(str(sum(r["status"] == s for r in rows)) for s in du.CLAIM_STATUSES) + " |")
    return "\n".join(lines) if len(lines) > 2 else None


def repository_url(citation: Path = ROOT / "CITATION.cff") -> str | None:
    """The published repository's address: CITATION.cff's ``repository-code`` (None while it has none)."""
    if not citation.exists():
        return None
    found = re.search(r"^repository-code:\s*[\"']?([^\"'\s]+)", citation.read_text(), flags=re.M)
    return found.group(1).rstrip("/") if found else None


def colab_links(url: str | None, notebooks: list[str] | None = None, branch: str = "main") -> str:
    """The README's "Open in Colab" line per notebook, built from the repository's GitHub address; without
    one, how to get them (the address is not known before the repository is published)."""
    names = notebooks or sorted(p.name for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    found = re.match(r"https://github\.com/([^/]+/[^/]+?)(?:\.git)?$", url or "")
    if not found:
        return ("No \"Open in Colab\" links yet: they are built from `repository-code` in CITATION.cff, which "
                "names no GitHub repository yet. Add it and run `python scripts/update_docs.py`.")
    base = f"https://colab.research.google.com/github/{found.group(1)}/blob/{branch}/notebooks"
    return "\n".join(f"- [{name[:-len('.ipynb')]}]({base}/{name}): "
                     f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({base}/{name})"
                     for name in names)


def set_notebook_repository(url: str | None) -> list[Path]:
    """Copy the address into each notebook's Colab cell (``REPOSITORY = ...``) and its .ipynb pair; returns
    the notebooks changed."""
    import subprocess

    changed = []
    for source in sorted((ROOT / "notebooks").glob("[0-9]*.py")):
        text = source.read_text()
        new = re.sub(r"^REPOSITORY = .*?  #", f"REPOSITORY = {url!r}  #", text, count=1, flags=re.M)
        if new != text:
            source.write_text(new)
            changed.append(source)
    if changed:
        subprocess.run([sys.executable, "-m", "jupytext", "--sync", "--quiet", *map(str, changed)], check=True)
    return changed


RECORDS = (("quick", "48 px, 2-core CPU, the profile of `make test`", ROOT / "docs" / "quick" / "claims.json"),
           ("cpu", "64 px, 05 at 48 px, 2-core CPU, `make reproduce`", ROOT / "docs" / "cpu" / "claims.json"),
           ("paper", "299 px / n = 2523, one H200: 02 and 04 whole, 03's Fig. 6-7 (0.12.0), 01 (0.4.0); "
                     "judged before 0.14.0's checks",
            ROOT / "docs" / "gpu" / "claims.json"))


def _effect_cell(row: dict) -> str:
    """The effect size and its spread over replicates, or what the row rests on."""
    n = row["numbers"]
    if "effect min, median, max" in n and n["effect min, median, max"]:
        lo, mid, hi = n["effect min, median, max"]
        floor = (f", at least {n['smallest effect counted']:.3g} counted" if "smallest effect counted" in n
                 else "")
        if "replicates in the paper's direction, reversed, no effect" in n:
            agree = n["replicates in the paper's direction, reversed, no effect"] + " in the paper's direction, reversed"
            agree += ", no effect"
        else:  # records of releases before 0.14.0
            agree = n["replicates in the paper's direction"] + " in the paper's direction"
        return f"{n.get('effect', 'effect')}: {lo:.3g} / {mid:.3g} / {hi:.3g} (min / median / max){floor}, {agree}"
    if "replicates" in n:
        return f"{n['replicates']} draw(s)"
    return "-"


def _numbers_cell(row: dict, limit: int = 320) -> str:
    from depthrep.claims import _fmt  # the record's own number format

    skip = {"effect", "effect per replicate", "effect min, median, max", "replicates in the paper's direction",
            "replicates in the paper's direction, reversed, no effect", "smallest effect counted", "replicates"}
    text = "; ".join(f"{k} = {_fmt(v)}" for k, v in row["numbers"].items() if k not in skip)
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


def _records() -> tuple[dict, list[str]]:
    """Every profile's record (name -> (label, claim -> row)) and the claim ids found, in the paper's order."""
    from paper_claims import CLAIMS

    records = {name: (label, {r["claim"]: r for r in json.loads(path.read_text())})
               for name, label, path in RECORDS if path.exists()}
    found = {c for _, rows in records.values() for c in rows}
    unknown = sorted(found - set(CLAIMS))
    if unknown:
        raise SystemExit(f"scripts/paper_claims.py has no entry for {unknown}: add the paper's words")
    return records, [c for c in CLAIMS if c in found]


def _measured(row: dict) -> str:
    """A row's effect and spread, or, for a measured boolean, its numbers."""
    cell = _effect_cell(row)
    return cell if cell != "-" and not cell.endswith("draw(s)") else (
        (cell + ": " if cell != "-" else "") + _numbers_cell(row, limit=240))


def contradictions() -> str:
    """The paper's claims that do not hold at some profile, each with its numbers per profile where it does not
    hold, its status at the other profiles, and its caveat (how the test differs from the paper): the README's
    list and REPORT.md's, from the records alone."""
    from paper_claims import BEYOND, CLAIMS

    records, ids = _records()
    lines = []
    for claim in (c for c in ids if c not in BEYOND):
        rows = [(name, rows[claim]) for name, (_, rows) in records.items() if claim in rows]
        against = [(name, r) for name, r in rows if r["status"] == "does not hold"]
        if not against:
            continue
        others = [f"{name}: {r['status']}" for name, r in rows if r["status"] != "does not hold"]
        lines.append(f"- **{claim}** ({CLAIMS[claim][0]}): {against[0][1]['text']}. Does not hold at "
                     + "; ".join(f"{name} ({_measured(r)})" for name, r in against)
                     + (f"; elsewhere {', '.join(others)}" if others else "")
                     + f". Caveat: {CLAIMS[claim][2]}.")
    return "\n".join(lines) or "- none"


def report() -> str:
    """docs/REPORT.md: the replication report, generated from every profile's claims record and the paper's words
    (scripts/paper_claims.py)."""
    import depthrep_utils as du
    from paper_claims import BEYOND, CLAIMS, LITERATURE, PAPER

    records, ids = _records()

    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    out = ["# Replication report", "",
           f"Of: {PAPER}", "",
           "Generated by `scripts/update_docs.py` from the claims records of every profile run so far ("
           + ", ".join(f"`{os.path.relpath(path, ROOT)}`" for _, _, path in RECORDS if path.exists())
           + ") and the paper's words (`scripts/paper_claims.py`). Do not edit by hand.", "",
           "## Scope", "",
           "The paper's experiments (sections 2-6: representation by depth, non-uniqueness, MLP invertibility, "
           "ReLU width, noise-trained models), its open question of section 7 (other architectures) and the "
           "assumption of section 2 that its procedure can generate any image, in seven notebooks, at these "
           "profiles:", ""]
    out += [f"- **{name}**: {label}; {len(rows)} claims." for name, (label, rows) in records.items()]
    out += ["", "The CPU machines cannot download torchvision's ImageNet weights: claims that need them are "
            "*not measured* there, and an offline ImageNet-trained EfficientNet-Lite0 stands in where it can.", "",
            "## Method", "",
            "A generated image a_g comes from eq. (4) (a_n - eps g) or eq. (5) (blurred) from a_0 ~ N(0.7, 1/20), "
            "the step size falling linearly to 0; every image is the best (smallest final m_g) of a line search "
            "whose runs all have the image's own length. m_g = ||O(a_g) - O(a)||, m_s = ||O(a') - O(a)|| with "
            "a' = a + N(0, 1/20), m_i = ||a_g - a|| (eqs. 6-10). A run *matched its embedding* when m_g < m_s.", "",
            du.VERDICT_RULE.strip(), "",
            "## Summary", "",
            "| profile | claims | " + " | ".join(du.CLAIM_STATUSES) + " |",
            "| --- | --- |" + " --- |" * len(du.CLAIM_STATUSES)]
    for name, (label, rows) in records.items():
        out.append(f"| {name} | {len(rows)} | "
                   + " | ".join(str(sum(r["status"] == s for r in rows.values())) for s in du.CLAIM_STATUSES) + " |")
    def verdicts(status: str, claims: list[str]) -> list[str]:
        lines = []
        for claim in claims:
            found = [(name, rows[claim]) for name, (_, rows) in records.items()
                     if claim in rows and rows[claim]["status"] == status]
            if found:
                lines.append(f"- **{claim}** ({', '.join(n for n, _ in found)}): {found[0][1]['text']}"
                             + (f". Measured: {_effect_cell(found[0][1])}" if status != "holds" else ""))
        return lines or ["- none"]

    untested = []
    for claim in ids:
        rows = [(name, rows[claim]) for name, (_, rows) in records.items() if claim in rows]
        if all(r["status"] in ("inconclusive", "below scale", "not measured") for _, r in rows):
            untested.append(f"- **{claim}**: " + "; ".join(f"{n}: {r['status']} ({r['why'][:220]})"
                                                           for n, r in rows))
    papers = [c for c in ids if c not in BEYOND]
    out += ["", "## What reproduces", "", "The paper's claims that hold at some profile:", ""] + verdicts("holds", papers)
    out += (["", "## Where the paper is contradicted", "",
            "The paper's claims that do not hold at some profile: fair, matched runs at a budget that tests the "
            "statement, the replicates agreeing against the paper (each claim's section below gives every profile's "
            "numbers).", ""]
            + [contradictions()])
    out += ["", "## What this reproduction could not test", "",
            "Claims with no verdict at any profile, and what each would need:", ""] + (untested or ["- none"])
    beyond = [c for c in ids if c in BEYOND]
    out += ["", "## Beyond the paper's statements", "",
            "This reproduction's own questions (section 7's open question, section 2's assumption): their verdicts "
            "neither reproduce nor contradict the paper.", "",
            "Hold at some profile:", ""] + verdicts("holds", beyond)
    out += ["", "Do not hold at some profile:", ""] + verdicts("does not hold", beyond)
    def statuses(claim: str) -> str:
        return ", ".join(f"{name}: {rows[claim]['status']}" for name, (_, rows) in records.items() if claim in rows)

    def published(claim: str) -> list[str]:
        return [f"- {ref}: {found}. Relation to the paper: {relation}. This record: {statuses(claim)}."
                for ref, found, relation in LITERATURE.get(claim, [])]

    out += ["", "## Published results beside ours", "",
            "Other work on the same questions (its own words and numbers; `LITERATURE` in "
            "`scripts/paper_claims.py`), each beside this record's verdicts:", ""]
    for claim in (c for c in ids if c in LITERATURE):
        out += [f"**{claim}** ({CLAIMS[claim][0]})", ""] + published(claim) + [""]
    out += ["", "## Claims, one by one", ""]
    for claim in ids:
        section, words, differs = CLAIMS[claim]
        latest = next(rows[claim] for _, rows in records.values() if claim in rows)
        out += [f"### {claim}", "", f"**Paper** ({section}): \"{words}\"", "",
                f"**Test**: {latest['text']} ({latest['figure']}; {latest['model']}).", "",
                f"**Differs from the paper**: {differs}.", ""]
        out += (["**Published results**:", ""] + published(claim) + [""]) if claim in LITERATURE else []
        out += ["| profile | status | effect and spread | numbers | why |", "| --- | --- | --- | --- | --- |"]
        for name, (_, rows) in records.items():
            if claim in rows:
                r = rows[claim]
                out.append(f"| {name} | **{r['status']}** | {cell(_effect_cell(r))} | {cell(_numbers_cell(r))} | "
                           f"{cell(r['why'])} |")
        out.append("")

    return "\n".join(out) + "\n"


def replace_sections(path: Path, sections: dict) -> None:
    """Replace each named generated section of ``path`` whose text could be rendered."""
    text = path.read_text()
    for name, render in sections.items():
        body = render()
        if body is None:
            continue
        inline = re.search(rf"<!-- BEGIN {name} -->[^\n]", text) is not None  # a section inside a line
        block = (f"<!-- BEGIN {name} -->{body}<!-- END {name} -->" if inline
                 else f"<!-- BEGIN {name} -->\n{body}\n<!-- END {name} -->")
        text, n = re.subn(rf"<!-- BEGIN {name} -->.*?<!-- END {name} -->", lambda _: block, text, flags=re.S)
        if n != 1:
            raise SystemExit(f"{path.name} has no '<!-- BEGIN {name} -->' ... '<!-- END {name} -->' section")
    path.write_text(text)


def copy_record(source: Path, profile: str, dest: Path, with_figures: bool = False) -> None:
    """Copy a run's claims record (only if every row is of ``profile``), its run log and, with ``with_figures``,
    its figures (``<notebook>/<name>.png`` -> ``dest/<name>.png``, replacing every figure there: a figure a newer
    run no longer draws must not stay beside its record) into the committed ``dest``. A record of other profiles
    is left where it is (an error when asked for by ``--cpu``)."""
    if not (source / "claims.json").exists() or source == dest:
        return
    rows = json.loads((source / "claims.json").read_text())
    if {r["profile"] for r in rows} != {profile}:
        if not with_figures:
            print(f"{source}/claims.json is not a {profile}-only record: docs/{dest.name} left as it is")
            return
        raise SystemExit(f"{source}/claims.json holds profiles {sorted({r['profile'] for r in rows})}, not only {profile}")
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("claims.json", "claims.md") + (("runs.json",) if with_figures else ()):
        if (source / name).exists():
            shutil.copyfile(source / name, dest / name)
    if with_figures:
        for old in dest.glob("*.png"):
            old.unlink()
        copy_figures(source, dest)


def copy_figures(source: Path, dest: Path) -> None:
    """A results folder's figures (``<notebook>/<name>.png``) into ``dest/<name>.png``."""
    for png in source.glob("*/*.png"):
        shutil.copyfile(png, dest / png.name)


def merge_record(sources: list[Path], profile: str, dest: Path) -> None:
    """Merge the records of runs made one notebook per results folder (``scripts/gpu_check.sh``) into the
    committed ``dest``: each row replaces the row of the same claim and profile there (rows of other claims
    stay, with the release they came from), each run's log entry is appended to ``dest/runs.json`` (finished
    or not), and the figures are copied. Only rows of ``profile`` are taken."""
    from depthrep.claims import render_claims

    dest.mkdir(parents=True, exist_ok=True)
    path, runs_path = dest / "claims.json", dest / "runs.json"
    rows = {(r["claim"], r["profile"]): r for r in (json.loads(path.read_text()) if path.exists() else [])}
    runs = json.loads(runs_path.read_text()) if runs_path.exists() else []
    for source in sources:
        if (source / "claims.json").exists():
            rows.update({(r["claim"], r["profile"]): r for r in json.loads((source / "claims.json").read_text())
                         if r["profile"] == profile})
        if (source / "runs.json").exists():
            runs += [r for r in json.loads((source / "runs.json").read_text()) if r.get("profile") == profile]
        copy_figures(source, dest)
    ordered = [rows[k] for k in sorted(rows)]
    path.write_text(json.dumps(ordered, indent=2, allow_nan=False) + "\n")
    (dest / "claims.md").write_text(render_claims(ordered))
    runs_path.write_text(json.dumps(runs, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--make-test", help="the measured time of make test on a fresh clone, e.g. '19 min 30 s'")
    parser.add_argument("--cpu", type=Path, help="a finished `make reproduce PROFILE=cpu RESULTS=DIR` run: its record, "
                        "run log and figures are copied to docs/cpu/")
    parser.add_argument("--gpu", type=Path, nargs="+", help="paper-profile results folders, one per notebook "
                        "(scripts/gpu_check.sh): merged into docs/gpu/ (claims by claim id, run log, figures)")
    args = parser.parse_args()
    results = args.results.resolve()
    gpu, cpu = ROOT / "docs" / "gpu", ROOT / "docs" / "cpu"
    copy_record(results, "quick", ROOT / "docs" / "quick")
    if args.cpu:
        copy_record(args.cpu.resolve(), "cpu", cpu, with_figures=True)
    if args.gpu:
        merge_record([p.resolve() for p in args.gpu], "paper", gpu)
    set_notebook_repository(repository_url())
    replace_sections(ROOT / "README.md", {
        "claim-summary": claim_summary, "colab-links": lambda: colab_links(repository_url()),
        "contradictions": contradictions,
        "make-test": lambda: args.make_test})
    replace_sections(ROOT / "docs" / "RESULTS.md", {
        "claim-counts": lambda: status_counts(results), "claim-counts-cpu": lambda: status_counts(cpu),
        "runtimes": lambda: runtimes(results), "figures": lambda: figures(results)})
    (ROOT / "docs" / "REPORT.md").write_text(report())
    replace_sections(ROOT / "docs" / "SPEED.md", {
        "bench": lambda: bench(results / "bench.json"), "bench-gpu": lambda: bench(gpu / "bench.json"),
        "bench-peers": lambda: bench_peers(results / "bench_peers.json"),
        "bench-peers-299": lambda: bench_peers(gpu / "bench_peers_299.json")})


if __name__ == "__main__":
    main()
