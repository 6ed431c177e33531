"""Copy the claims table, the figure gallery and the runtimes from results/ into README.md.

    python scripts/update_readme.py [--results results]

Each section of README.md between `<!-- BEGIN name -->` and `<!-- END name -->` is replaced; run after
`make reproduce` so the README shows what was measured.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def claims(results: Path) -> str:
    text = (results / "claims.md").read_text()
    return text.split("\n", 4)[-1].strip()  # drop the title and intro lines


def figures(results: Path) -> str:
    lines = []
    for png in sorted(results.glob("*/*.png")):
        rel = png.relative_to(ROOT) if png.is_relative_to(ROOT) else png
        lines.append(f"**{png.parent.name} / {png.stem}**\n\n![{png.stem}]({rel})\n")
    return "\n".join(lines)


def runtimes(results: Path) -> str:
    entries = json.loads((results / "runs.json").read_text())
    latest = {(e["notebook"], e["profile"]): e for e in entries}
    rows = ["| notebook | profile | status | seconds | peak memory (MB) |", "| --- | --- | --- | --- | --- |"]
    for (name, profile), e in sorted(latest.items()):
        rows.append(f"| {name} | {profile} | {e['status']} | {e['seconds']:.0f} | {e['peak_rss_mb']:.0f} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    results = parser.parse_args().results.resolve()
    readme = (ROOT / "README.md").read_text()
    for name, render in (("claims", claims), ("figures", figures), ("runtimes", runtimes)):
        block = f"<!-- BEGIN {name} -->\n{render(results)}\n<!-- END {name} -->"
        readme, n = re.subn(rf"<!-- BEGIN {name} -->.*?<!-- END {name} -->", lambda _: block, readme, flags=re.S)
        if n != 1:
            raise SystemExit(f"README.md has no '<!-- BEGIN {name} -->' ... '<!-- END {name} -->' section")
    (ROOT / "README.md").write_text(readme)


if __name__ == "__main__":
    main()
