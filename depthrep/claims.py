"""The claims record: results/claims.json and claims.md, one row per claim and profile."""
from __future__ import annotations

import json
import time
from typing import Any, Mapping

from depthrep.results import jsonable, locked, results_root, write_text


# holds / does not hold: measured on runs that matched their embedding, at a budget that tests the statement;
# inconclusive: a compared run missed its embedding; below scale: this profile's budget cannot test the
# statement (the reason names what it would need); not measured: the inputs are missing (weights offline).
CLAIM_STATUSES = ("holds", "does not hold", "inconclusive", "below scale", "not measured")


def matched(run: Mapping) -> bool:
    """Whether a generated image matched the layer's embedding: m_g < m_s (closer in embedding than the
    shifted input a'). Only such runs say what the layer keeps of the input; a run that did not get there
    says something about the optimiser instead."""
    return bool(run["m_g"] < run["m_s"]) and not run.get("diverged", False)


def unmatched_runs(runs: Mapping[str, Mapping]) -> list[str]:
    """Labels (with their numbers) of the runs that did not match the embedding."""
    def why(r: Mapping) -> str:
        return "diverged" if r.get("diverged") else f"m_g {r['m_g']:.3g} >= m_s {r['m_s']:.3g}"

    return [f"{label} ({why(r)})" for label, r in runs.items() if not matched(r)]


def record_claim(claim: str, text: str, figure: str, profile: str, model: str, image: str, sizes: str,
                 numbers: dict, status: str, why: str = "") -> dict:
    """Add or replace one row of ``results/claims.json`` (keyed by claim id and profile) and re-render
    ``results/claims.md``. ``status`` is one of ``CLAIM_STATUSES``; all but 'holds' and 'does not hold' need a
    reason (``why``)."""
    if status not in CLAIM_STATUSES:
        raise ValueError(f"status must be one of {CLAIM_STATUSES}, got {status!r}.")
    if status in ("not measured", "inconclusive", "below scale") and not why:
        raise ValueError(f"A claim that is {status} needs a reason (why=...).")
    row = jsonable(dict(claim=claim, text=text, figure=figure, profile=profile, model=model, image=image,
                        sizes=sizes, numbers=numbers, status=status, why=why,
                        recorded=time.strftime("%Y-%m-%d %H:%M:%S")))
    path = results_root() / "claims.json"
    with locked(path):
        rows = json.loads(path.read_text()) if path.is_file() else []
        rows = [r for r in rows if (r["claim"], r["profile"]) != (claim, profile)] + [row]
        rows.sort(key=lambda r: (r["claim"], r["profile"]))
        write_text(path, json.dumps(rows, indent=2, allow_nan=False) + "\n")
        write_text(path.with_suffix(".md"), render_claims(rows))
    return row


def check_claim(claim: str, text: str, figure: str, profile: str, model: str, image: str, sizes: str,
                numbers: dict, holds: bool, why: str = "", runs: Mapping[str, Mapping] | None = None,
                below_scale: str = "") -> bool | None:
    """Record a measured claim and print its row. ``runs`` (label -> a result with m_g and m_s) are the
    generated images the claim compares: if any did not match its embedding the claim is 'inconclusive'
    (returns None) whatever ``holds`` says. Otherwise a non-empty ``below_scale`` (what the statement would
    need that this budget lacks, e.g. "m_i is still falling at the last of 400 steps") makes it 'below scale'
    (returns None); else 'holds' or 'does not hold' (returns ``holds``)."""
    missed = unmatched_runs(runs or {})
    if missed:
        status = "inconclusive"
        why = (f"did not converge: {len(missed)} of {len(runs)} compared runs missed the embedding: "
               + "; ".join(missed) + (f". {why}" if why else ""))
    elif below_scale:
        status, why = "below scale", below_scale + (f". {why}" if why else "")
    else:
        status = "holds" if holds else "does not hold"
    row = record_claim(claim, text, figure, profile, model, image, sizes, numbers, status, why)
    print(f"{claim}: {row['status']}  " + "; ".join(f"{k} = {_fmt(v)}" for k, v in row["numbers"].items())
          + (f"  ({why})" if status in ("inconclusive", "below scale") else ""))
    return None if status in ("inconclusive", "below scale") else bool(holds)


def _fmt(v: Any) -> str:
    """Compact number formatting for the claims table."""
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    return str(v)


def claims_table(rows: list[dict]) -> str:
    """The claims as a Markdown table (what the README shows)."""
    lines = ["| claim | figure | profile | status | measured | model, image, sizes | why / notes |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        nums = "; ".join(f"{k} = {_fmt(v)}" for k, v in r["numbers"].items())
        cells = [f"**{r['claim']}**: {r['text']}", r["figure"], r["profile"], r["status"], nums,
                 f"{r['model']}; {r['image']}; {r['sizes']}", r["why"]]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def render_claims(rows: list[dict]) -> str:
    """The claims record as a Markdown page: a title, where it comes from, and the table."""
    return ("# Claims record\n\nWritten by the notebooks (`du.Claims`); one row per claim and profile.\n\n"
            + claims_table(rows))


class Claims:
    """The claims of one notebook run, made once with what every row shares (profile, image, sizes).

    ``check`` records a measured verdict and returns it (with ``runs``, the generated images it compares:
    'inconclusive' when one of them missed its embedding; ``below_scale``: the budget cannot test it);
    ``not_measured`` records a claim that could not be measured, with the reason; ``claims[claim_id]`` is the
    verdict recorded in this run (True: holds, False: does not hold, None: inconclusive, below scale or not
    measured), so each claim id is written once.
    """

    def __init__(self, profile: str, image: str, sizes: str) -> None:
        self.profile, self.image, self.sizes = profile, image, sizes
        self.verdicts: dict[str, bool | None] = {}

    def check(self, claim: str, text: str, figure: str, model: str, numbers: dict, holds: bool,
              why: str = "", runs: Mapping[str, Mapping] | None = None, below_scale: str = "") -> bool | None:
        self.verdicts[claim] = check_claim(claim, text, figure, self.profile, model, self.image, self.sizes,
                                           numbers, holds, why, runs, below_scale)
        return self.verdicts[claim]

    def not_measured(self, claim: str, text: str, figure: str, model: str, why: str) -> None:
        record_claim(claim, text, figure, self.profile, model, self.image, self.sizes, {}, "not measured", why)
        print(f"{claim}: not measured ({why})")
        self.verdicts[claim] = None

    def __getitem__(self, claim: str) -> bool | None:
        return self.verdicts[claim]
