"""The claims record: results/claims.json and claims.md, one row per claim and profile."""
from __future__ import annotations

import json
import time
from typing import Any, Mapping

from depthrep.checks import NO_SIGNAL, SATURATED, no_signal, start_distance_ratio
from depthrep.results import jsonable, locked, results_root, write_text


CLAIM_STATUSES = ("holds", "does not hold", "inconclusive", "below scale", "not measured")
MIN_REPLICATES = 3
VERDICT_RULE = f"""\
Each claim's status comes from one rule, applied in this order (`depthrep/claims.py`, `check_claim`; each
claim's effect and floor: `depthrep/checks.py`):
1. **not measured**: the inputs are missing (weights unavailable offline), with the reason.
2. **inconclusive**: a compared run missed its embedding (m_g >= m_s, or diverged): it says something about
   the optimiser, not about what the layer keeps.
3. **inconclusive**: a compared run's layer carries no signal (m_s below {NO_SIGNAL:g} of ||O_l(a)||, or ||O_l(a)||
   below {NO_SIGNAL:g} of ||a||): any image "matches" it, so its m_i says nothing about the layer.
4. **below scale**: this profile's budget is shorter than the statement needs, whichever way the run points;
   the reason names what it would need.
5. **inconclusive**: a run on the decisive side of a comparison (the one the paper says is closer to the target)
   ended above {SATURATED} of its start distance (m_i / ||a_0 - a||): the comparison measures how far each run
   wandered from a_0, not what the layers keep (saturated).
6. With replicates (the statement's effect in each independent draw of seed or image, signed so that > 0 is the
   paper's direction, and the smallest effect the check counts, its floor > 0): a replicate is in the paper's
   direction when its effect is at least the floor, reversed when at most minus the floor, else no effect.
   **holds** if every replicate is in the paper's direction, **does not hold** if none is, **inconclusive** if
   they disagree or there are fewer than {MIN_REPLICATES}. Without replicates (a measured boolean): holds or does
   not hold, unless it rests on fewer than {MIN_REPLICATES} draws of a random model or start (inconclusive, with
   what it measured).

m_s uses the text's a' = a + N(0, 1/20); each status is also judged with the paper code's 1/18 (a larger m_s,
where the runs record it), and a status that differs between the two says so in its reason.
"""


def saturation(decisive: Mapping[str, Mapping]) -> dict:
    """The decisive runs' m_i / ||a_0 - a|| (those with a recorded history), each, and which of them ended
    above ``SATURATED`` (any one makes the comparison measure how far the runs wandered from a_0)."""
    ratios = {label: r for label, r in ((label, start_distance_ratio(run)) for label, run in decisive.items())
              if r is not None}
    if not ratios:
        return {}
    return {"m_i / ||a_0 - a|| per decisive run": ratios,
            "saturated": [label for label, r in ratios.items() if r > SATURATED]}


def replicate_verdict(effects: Mapping[str, float], floor: float) -> tuple[bool | None, str, dict]:
    """The verdict rule's step 6 on replicates: ``(holds, why, numbers)``. ``effects`` maps each replicate's
    label to the statement's effect there, signed so that > 0 is the paper's direction; ``floor`` (> 0) is the
    smallest effect counted. holds: every replicate >= floor (and at least ``MIN_REPLICATES``); does not
    hold: none; otherwise None with the reason."""
    if not floor > 0:
        raise ValueError(f"The floor is the smallest effect a check counts and must be > 0, got {floor!r}: an "
                         f"effect of exactly 0 is no effect.")
    values = [float(v) for v in effects.values()]
    agree = sum(v >= floor for v in values)
    reverse = sum(v <= -floor for v in values)
    ordered = sorted(values)
    numbers = {"effect per replicate": {str(k): float(v) for k, v in effects.items()},
               "effect min, median, max": [ordered[0], ordered[len(ordered) // 2], ordered[-1]] if values else [],
               "smallest effect counted": float(floor),
               "replicates in the paper's direction, reversed, no effect":
                   f"{agree}, {reverse}, {len(values) - agree - reverse} of {len(values)}"}
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
                replicates: int = 0, floor: float | None = None,
                decisive: Mapping[str, Mapping] | None = None) -> bool | None:
    """Record a measured claim by the verdict rule (top of this module) and print its row; returns True (holds),
    False (does not hold) or None (inconclusive, below scale).

    ``runs`` (label -> a result with m_g, m_s and, for the no-signal test, ``embedding_norm`` and
    ``input_norm``) are the generated images the claim compares; ``decisive`` (label -> a result with m_i and its
    history) those on the side the paper says is closer to the target, for the saturation test;
    ``below_scale`` is what the statement would need that this budget lacks. Give either ``holds`` (the
    measured boolean; ``replicates``: how many independent random draws it rests on, 0 when it is no draw of a
    random model) or ``effects`` (label -> effect per replicate, > 0 in the paper's direction; ``effect`` says
    what it is; ``floor``: the smallest effect counted, > 0), never both."""
    if (holds is None) == (effects is None):
        raise ValueError(f"{claim}: give either holds (a measured boolean) or effects (per replicate), not both.")
    if effects is not None and floor is None:
        raise ValueError(f"{claim}: effects need the smallest effect the check counts (floor=...).")
    numbers = dict(numbers)
    sat = saturation(decisive or {})
    numbers.update({k: v for k, v in sat.items() if k != "saturated"})
    if effects is not None:
        holds, rule_why, rule_numbers = replicate_verdict(effects, floor)
        numbers.update({"effect": effect, **rule_numbers} if effect else rule_numbers)
    elif 0 < replicates < MIN_REPLICATES:
        numbers["replicates"] = replicates
        holds, rule_why = None, (f"{replicates} draw(s) of a random model or start: the verdict rule needs "
                                 f"{MIN_REPLICATES} (measured: {'holds' if holds else 'does not hold'})")
    else:
        if replicates:
            numbers["replicates"] = replicates
        rule_why = ""
    status, why = _decide(holds, rule_why, runs or {}, below_scale, sat, why)
    code = {k: dict(r, m_s=r["m_s_code_sigma"]) for k, r in (runs or {}).items() if "m_s_code_sigma" in r}
    if code:  # the paper's code draws a' with sigma 1/18 (m_s larger): does the status depend on which?
        code_status, code_why = _decide(holds, rule_why, {**(runs or {}), **code}, below_scale, sat, "")
        numbers["runs matched with a' at sigma 1/20 (text), 1/18 (code)"] = (
            f"{sum(matched(r) for k, r in runs.items() if k in code)}, {sum(matched(r) for r in code.values())} "
            f"of {len(code)}")
        if code_status != status:
            why = (why + " " if why else "") + (
                f"With the paper code's a' = a + N(0, 1/18) instead of the text's 1/20 the status would be "
                f"'{code_status}'" + (f" ({code_why[:160]})" if code_why else "") + ".")
    row = record_claim(claim, text, figure, profile, model, image, sizes, numbers, status, why)
    print(f"{claim}: {row['status']}  " + "; ".join(f"{k} = {_fmt(v)}" for k, v in row["numbers"].items())
          + (f"  ({why})" if status in ("inconclusive", "below scale") else ""))
    return None if status in ("inconclusive", "below scale") else bool(holds)


def _decide(holds: bool | None, rule_why: str, runs: Mapping[str, Mapping], below_scale: str, sat: dict,
            why: str) -> tuple[str, str]:
    """Steps 2-6 of the verdict rule: the status and its reason (``why`` is appended to the reason)."""
    missed = unmatched_runs(runs)
    silent = [f"{label} ({reason})" for label, reason in ((k, no_signal(r)) for k, r in runs.items()) if reason]
    then = f". {why}" if why else ""
    if missed:
        return "inconclusive", (f"did not converge: {len(missed)} of {len(runs)} compared runs missed the "
                                f"embedding: " + "; ".join(missed) + then)
    if silent:
        return "inconclusive", (f"no signal: {len(silent)} of {len(runs)} compared runs are at a layer whose "
                                f"embedding does not carry the input: " + "; ".join(silent) + then)
    if below_scale:
        return "below scale", below_scale + then
    if sat.get("saturated"):
        return "inconclusive", (
            f"saturated: {len(sat['saturated'])} run(s) on the decisive side ended above {SATURATED} of their "
            f"start distance (m_i / ||a_0 - a||): " + ", ".join(
                f"{k} {sat['m_i / ||a_0 - a|| per decisive run'][k]:.3g}" for k in sat["saturated"])
            + "; the comparison measures how far each run wandered from a_0" + then)
    if holds is None:
        return "inconclusive", rule_why + then
    return ("holds" if holds else "does not hold"), why


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
    generated images it compares; ``decisive``, those the paper says are closer; ``below_scale``; ``effects``
    per replicate with their ``floor``, or ``holds``);
    ``not_measured`` records a claim that could not be measured, with the reason; ``claims[claim_id]`` is the
    verdict recorded in this run (True: holds, False: does not hold, None: inconclusive, below scale or not
    measured), so each claim id is written once.
    """

    def __init__(self, profile: str, image: str, sizes: str) -> None:
        self.profile, self.image, self.sizes = profile, image, sizes
        self.verdicts: dict[str, bool | None] = {}

    def check(self, claim: str, text: str, figure: str, model: str, numbers: dict, holds: bool | None = None,
              why: str = "", runs: Mapping[str, Mapping] | None = None, below_scale: str = "",
              effects: Mapping[str, float] | None = None, effect: str = "", replicates: int = 0,
              floor: float | None = None, decisive: Mapping[str, Mapping] | None = None) -> bool | None:
        self.verdicts[claim] = check_claim(claim, text, figure, self.profile, model, self.image, self.sizes,
                                           numbers, holds, why, runs, below_scale, effects, effect, replicates,
                                           floor, decisive)
        return self.verdicts[claim]

    def not_measured(self, claim: str, text: str, figure: str, model: str, why: str) -> None:
        record_claim(claim, text, figure, self.profile, model, self.image, self.sizes, {}, "not measured", why)
        print(f"{claim}: not measured ({why})")
        self.verdicts[claim] = None

    def __getitem__(self, claim: str) -> bool | None:
        return self.verdicts[claim]

    def row(self, claim: str) -> dict:
        """The row recorded for ``claim`` in this run (status, numbers with the effect per replicate, why)."""
        if claim not in self.verdicts:
            raise KeyError(f"{claim} was not recorded in this run.")
        rows = json.loads((results_root() / "claims.json").read_text())
        return next(r for r in rows if (r["claim"], r["profile"]) == (claim, self.profile))

    def status(self, claim: str) -> str:
        """The status recorded for ``claim`` in this run (one of ``CLAIM_STATUSES``)."""
        return self.row(claim)["status"]

    def effects(self, claim: str) -> list[float]:
        """The effect per replicate recorded for ``claim`` in this run (> 0: the paper's direction)."""
        return list(self.row(claim)["numbers"]["effect per replicate"].values())
