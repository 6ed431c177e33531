"""The claims record: results/claims.json and claims.md, one row per claim and profile."""
from __future__ import annotations

import json
import time
from typing import Any, Mapping

from depthrep.results import jsonable, locked, results_root, write_text


CLAIM_STATUSES = ("holds", "does not hold", "inconclusive", "below scale", "not measured")
MIN_REPLICATES = 3
SATURATED = 0.9  # m_i / ||a_0 - a|| above this in every compared run: the runs stayed near their start
VERDICT_RULE = f"""\
Each claim's status comes from one rule, applied in this order (`depthrep/claims.py`, `check_claim`):
1. **not measured**: the inputs are missing (weights unavailable offline), with the reason.
2. **inconclusive**: a compared run missed its embedding (m_g >= m_s, or diverged): it says something about
   the optimiser, not about what the layer keeps.
3. **below scale**: this profile's budget cannot test the statement; the reason names what it would need.
4. **inconclusive**: every compared run ended above {SATURATED} of its start distance (m_i / ||a_0 - a||): the
   comparison measures how far each run wandered from a_0, not what the layers keep (saturated).
5. With replicates (the statement's effect size in each independent draw of seed or image, signed so that
   > 0 is the paper's direction): **holds** if every replicate agrees, **does not hold** if none does,
   **inconclusive** if they disagree or there are fewer than {MIN_REPLICATES}. Without replicates (a measured boolean):
   holds or does not hold, unless it rests on fewer than {MIN_REPLICATES} draws of a random model or start
   (inconclusive, with what it measured).
"""


def start_distance_ratio(run: Mapping) -> float | None:
    """m_i / ||a_0 - a||: where the run ended between the target (0) and its start (1); None without history."""
    history = run.get("history") or {}
    start = history.get("m_i")
    if start is None or len(start) == 0 or not float(start[0]) > 0:
        return None
    return float(run["m_i"]) / float(start[0])


def saturation(runs: Mapping[str, Mapping]) -> dict:
    """The compared runs' m_i / ||a_0 - a|| (those with a recorded history): min and max, and whether every one
    is above ``SATURATED``."""
    ratios = [r for r in (start_distance_ratio(run) for run in runs.values()) if r is not None]
    if not ratios:
        return {}
    return {"m_i / ||a_0 - a|| min, max": [min(ratios), max(ratios)],
            "saturated": len(ratios) == len(runs) and min(ratios) > SATURATED}


def replicate_verdict(effects: Mapping[str, float]) -> tuple[bool | None, str, dict]:
    """The verdict rule's step 5 on replicates: ``(holds, why, numbers)``. ``effects`` maps each replicate's
    label to the statement's effect size there, signed so that > 0 is the paper's direction. holds: every
    replicate > 0 (and at least ``MIN_REPLICATES``); does not hold: none; otherwise None with the reason."""
    values = [float(v) for v in effects.values()]
    agree = sum(v > 0 for v in values)
    ordered = sorted(values)
    numbers = {"effect per replicate": {str(k): float(v) for k, v in effects.items()},
               "effect min, median, max": [ordered[0], ordered[len(ordered) // 2], ordered[-1]] if values else [],
               "replicates in the paper's direction": f"{agree} of {len(values)}"}
    if len(values) < MIN_REPLICATES:
        return None, (f"{len(values)} replicate(s): the verdict rule needs {MIN_REPLICATES} independent draws "
                      f"(seeds or images)"), numbers
    if 0 < agree < len(values):
        return None, f"replicates disagree: {agree} of {len(values)} in the paper's direction", numbers
    return agree == len(values), "", numbers


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
                numbers: dict, holds: bool | None = None, why: str = "", runs: Mapping[str, Mapping] | None = None,
                below_scale: str = "", effects: Mapping[str, float] | None = None, effect: str = "",
                replicates: int = 0) -> bool | None:
    """Record a measured claim by the verdict rule (top of this module) and print its row; returns True (holds),
    False (does not hold) or None (inconclusive, below scale).

    ``runs`` (label -> a result with m_g, m_s and, for the saturation test, m_i and its history) are the
    generated images the claim compares; ``below_scale`` is what the statement would need that this budget
    lacks (e.g. "m_i is still falling at the last of 400 steps"). Give either ``holds`` (the measured boolean;
    ``replicates``: how many independent random draws it rests on, 0 when it is no draw of a random model)
    or ``effects`` (label -> effect size per replicate, > 0 in the paper's direction; ``effect`` says what it
    is), never both."""
    if (holds is None) == (effects is None):
        raise ValueError(f"{claim}: give either holds (a measured boolean) or effects (per replicate), not both.")
    numbers = dict(numbers)
    sat = saturation(runs or {})
    numbers.update({k: v for k, v in sat.items() if k != "saturated"})
    if effects is not None:
        holds, rule_why, rule_numbers = replicate_verdict(effects)
        numbers.update({"effect": effect, **rule_numbers} if effect else rule_numbers)
    elif 0 < replicates < MIN_REPLICATES:
        numbers["replicates"] = replicates
        holds, rule_why = None, (f"{replicates} draw(s) of a random model or start: the verdict rule needs "
                                 f"{MIN_REPLICATES} (measured: {'holds' if holds else 'does not hold'})")
    else:
        if replicates:
            numbers["replicates"] = replicates
        rule_why = ""
    missed = unmatched_runs(runs or {})
    if missed:
        status = "inconclusive"
        why = (f"did not converge: {len(missed)} of {len(runs)} compared runs missed the embedding: "
               + "; ".join(missed) + (f". {why}" if why else ""))
    elif below_scale:
        status, why = "below scale", below_scale + (f". {why}" if why else "")
    elif sat.get("saturated"):
        status = "inconclusive"
        why = (f"saturated: every compared run ended above {SATURATED} of its start distance (m_i / ||a_0 - a|| "
               f"{sat['m_i / ||a_0 - a|| min, max'][0]:.3g} to {sat['m_i / ||a_0 - a|| min, max'][1]:.3g}): the "
               f"comparison measures how far each run wandered from a_0" + (f". {why}" if why else ""))
    elif holds is None:
        status, why = "inconclusive", rule_why + (f". {why}" if why else "")
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

    ``check`` records a measured verdict by the verdict rule and returns it (``check_claim``: ``runs``, the
    generated images it compares; ``below_scale``; ``effects`` per replicate or ``holds``);
    ``not_measured`` records a claim that could not be measured, with the reason; ``claims[claim_id]`` is the
    verdict recorded in this run (True: holds, False: does not hold, None: inconclusive, below scale or not
    measured), so each claim id is written once.
    """

    def __init__(self, profile: str, image: str, sizes: str) -> None:
        self.profile, self.image, self.sizes = profile, image, sizes
        self.verdicts: dict[str, bool | None] = {}

    def check(self, claim: str, text: str, figure: str, model: str, numbers: dict, holds: bool | None = None,
              why: str = "", runs: Mapping[str, Mapping] | None = None, below_scale: str = "",
              effects: Mapping[str, float] | None = None, effect: str = "", replicates: int = 0) -> bool | None:
        self.verdicts[claim] = check_claim(claim, text, figure, self.profile, model, self.image, self.sizes,
                                           numbers, holds, why, runs, below_scale, effects, effect, replicates)
        return self.verdicts[claim]

    def not_measured(self, claim: str, text: str, figure: str, model: str, why: str) -> None:
        record_claim(claim, text, figure, self.profile, model, self.image, self.sizes, {}, "not measured", why)
        print(f"{claim}: not measured ({why})")
        self.verdicts[claim] = None

    def __getitem__(self, claim: str) -> bool | None:
        return self.verdicts[claim]
