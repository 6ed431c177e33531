"""Copy the claims table and the figure gallery from results/ into README.md (figures to docs/figures/).

    python scripts/update_readme.py [--results results]

Each section of README.md between `<!-- BEGIN name -->` and `<!-- END name -->` is replaced; run after
`make reproduce` so the README shows what was measured.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def claims(results: Path) -> str:
    import depthrep_utils as du

    text = du.render_claims(json.loads((results / "claims.json").read_text()))
    return text.split("\n", 4)[-1].strip()  # drop the title and intro lines


def figures(results: Path) -> str:
    """Copy every results/<notebook>/*.png to docs/figures/ (committed, so GitHub shows them) and link it."""
    lines = []
    for png in sorted(results.glob("*/*.png")):
        copy = ROOT / "docs" / "figures" / f"{png.parent.name}__{png.name}"
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, copy)
        lines.append(f"**{png.parent.name} / {png.stem}**\n\n![{png.stem}]({copy.relative_to(ROOT)})\n")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    results = parser.parse_args().results.resolve()
    readme = (ROOT / "README.md").read_text()
    for name, render in (("claims", claims), ("figures", figures)):
        block = f"<!-- BEGIN {name} -->\n{render(results)}\n<!-- END {name} -->"
        readme, n = re.subn(rf"<!-- BEGIN {name} -->.*?<!-- END {name} -->", lambda _: block, readme, flags=re.S)
        if n != 1:
            raise SystemExit(f"README.md has no '<!-- BEGIN {name} -->' ... '<!-- END {name} -->' section")
    (ROOT / "README.md").write_text(readme)


if __name__ == "__main__":
    main()
