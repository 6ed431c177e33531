"""The claims record: results/claims.json and claims.md, one row per claim and profile."""
from __future__ import annotations

import json
import time
from typing import Any



from depthrep.results import _jsonable, locked, results_root, write_text


CLAIM_STATUSES = ("holds", "does not hold", "not measured")


def record_claim(claim: str, text: str, figure: str, profile: str, model: str, image: str, sizes: str,
                 numbers: dict, status: str, why: str = "") -> dict:
    """Add or replace one row of ``results/claims.json`` (keyed by claim id and profile) and re-render
    ``results/claims.md``. ``status`` is 'holds', 'does not hold' or 'not measured' (give ``why``)."""
    if status not in CLAIM_STATUSES:
        raise ValueError(f"status must be one of {CLAIM_STATUSES}, got {status!r}.")
    if status == "not measured" and not why:
        raise ValueError("A claim that is not measured needs a reason (why=...).")
    row = _jsonable(dict(claim=claim, text=text, figure=figure, profile=profile, model=model, image=image,
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
                numbers: dict, holds: bool, why: str = "") -> bool:
    """Record a measured claim as 'holds' or 'does not hold', print its row, and return ``holds``."""
    row = record_claim(claim, text, figure, profile, model, image, sizes, numbers,
                       "holds" if holds else "does not hold", why)
    print(f"{claim}: {row['status']}  " + "; ".join(f"{k} = {_fmt(v)}" for k, v in row["numbers"].items()))
    return bool(holds)


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

    ``check`` records a measured verdict and returns it; ``not_measured`` records a claim that could not be
    measured, with the reason; ``claims[claim_id]`` is the verdict recorded in this run (True: holds,
    False: does not hold, None: not measured), so each claim id is written once.
    """

    def __init__(self, profile: str, image: str, sizes: str) -> None:
        self.profile, self.image, self.sizes = profile, image, sizes
        self.verdicts: dict[str, bool | None] = {}

    def check(self, claim: str, text: str, figure: str, model: str, numbers: dict, holds: bool,
              why: str = "") -> bool:
        self.verdicts[claim] = check_claim(claim, text, figure, self.profile, model, self.image, self.sizes,
                                           numbers, holds, why)
        return self.verdicts[claim]

    def not_measured(self, claim: str, text: str, figure: str, model: str, why: str) -> None:
        record_claim(claim, text, figure, self.profile, model, self.image, self.sizes, {}, "not measured", why)
        print(f"{claim}: not measured ({why})")
        self.verdicts[claim] = None

    def __getitem__(self, claim: str) -> bool | None:
        return self.verdicts[claim]
