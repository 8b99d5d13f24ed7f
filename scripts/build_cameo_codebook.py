"""Build ``src/hybridwatch/model/cameo_eventcodes.csv``: the CAMEO event codebook hybridwatch ships.

Source: GDELT's published lookup ``CAMEO.eventcodes.txt`` (data.gdeltproject.org/data/lookups/;
the copy in ``../shared/data/gdelt_samples_and_lookups/lookups``). Run once; the output is
committed::

    python scripts/build_cameo_codebook.py ../shared/data/gdelt_samples_and_lookups/lookups/CAMEO.eventcodes.txt

What changes on the way, so a briefing can print a description as it stands:
- root codes are written in capitals in GDELT's file ("MAKE PUBLIC STATEMENT"); they become
  sentence case ("Make public statement");
- the catch-all suffix ", not specified below" is dropped ("Accuse, not specified below" →
  "Accuse"): in a briefing the code is the finest one known, so the suffix says nothing;
- trailing spaces are trimmed. Codes stay text (leading zeros matter: "010" is not "10").
A line that is not ``code<TAB>description`` with a 2–4 digit code stops the build with its line
number: the codebook is small enough to be exactly right.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/hybridwatch/model/cameo_eventcodes.csv"
_CODE = re.compile(r"^\d{2,4}$")
_SUFFIX = re.compile(r",\s*not specified below\s*$", re.IGNORECASE)


def clean(description: str) -> str:
    """GDELT's description as a briefing prints it (see the module docstring)."""
    text = _SUFFIX.sub("", description.strip())
    if text.isupper():
        text = text.capitalize()
    return text


def read_codebook(path: Path) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if number == 1 and line.startswith("CAMEOEVENTCODE"):
            continue                                   # the header
        if not line.strip():
            continue
        code, sep, description = line.partition("\t")
        if not sep or not _CODE.match(code.strip()) or not description.strip():
            sys.exit(f"{path} line {number}: not 'code<TAB>description' ({line!r})")
        rows.append((code.strip(), clean(description)))
    codes = [c for c, _ in rows]
    if len(set(codes)) != len(codes):
        sys.exit(f"{path}: duplicate codes")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="GDELT's CAMEO.eventcodes.txt")
    parser.add_argument("-o", "--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = read_codebook(args.source)
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["cameo_code", "description"])
        writer.writerows(rows)
    print(f"{len(rows)} codes → {args.out}")


if __name__ == "__main__":
    main()
