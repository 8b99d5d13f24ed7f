"""Convert the DISARM Foundation's STIX bundle into hybridwatch's compact technique table.

    python scripts/build_disarm_table.py [BUNDLE] [--out src/hybridwatch/model/disarm_red.json]

BUNDLE defaults to ../shared/data/disarm_framework/DISARM.json (see its SOURCE.txt). The output
keeps, per Red Framework technique: id (T0002, T0097.108 …), name, tactic (TA id) and phase,
parent technique, the bundle's STIX id and the first sentences of its description (≤ 200
characters); per tactic: id, name, phase name and matrix order. The bundle labels DISARM
phases with kill_chain_name "mitre-attack"; the table (and hybridwatch's STIX export) calls the
kill chain "disarm". Licence: CC BY-SA 4.0, attribution DISARM Foundation — carried in the file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BUNDLE = REPO / ".." / "shared" / "data" / "disarm_framework" / "DISARM.json"
DEFAULT_OUT = REPO / "src" / "hybridwatch" / "model" / "disarm_red.json"
SUMMARY_CHARS = 200


def external_id(obj: dict) -> str:
    for ref in obj.get("external_references", []):
        if ref.get("external_id"):
            return ref["external_id"]
    raise ValueError(f"{obj['id']}: no external_id")


def summary(text: str) -> str:
    """The description's first sentences, at most SUMMARY_CHARS characters, whitespace folded."""
    text = re.sub(r"\s+", " ", text or "").strip()
    sentences = re.split(r"(?<=[.!?])\s+", text)
    out = ""
    for sentence in sentences:
        if len(out) + len(sentence) + 1 > SUMMARY_CHARS:
            break
        out = f"{out} {sentence}".strip()
    return out or text[:SUMMARY_CHARS - 1].rstrip() + "…"


def convert(bundle: dict, source: str) -> dict:
    objects = bundle["objects"]
    matrix = next(o for o in objects if o["type"] == "x-mitre-matrix")
    tactics_by_ref = {o["id"]: o for o in objects if o["type"] == "x-mitre-tactic"}
    order = {ref: i for i, ref in enumerate(matrix.get("tactic_refs", []))}
    tactics = sorted(tactics_by_ref.values(), key=lambda t: order.get(t["id"], 99))
    tactic_of_phase = {t["x_mitre_shortname"]: external_id(t) for t in tactics}
    techniques_by_ref = {o["id"]: o for o in objects if o["type"] == "attack-pattern"}
    parent = {r["source_ref"]: r["target_ref"] for r in objects
              if r["type"] == "relationship" and r["relationship_type"] == "subtechnique-of"}
    marking = next((o for o in objects if o["type"] == "marking-definition"), {})
    techniques = []
    for ref, obj in techniques_by_ref.items():
        phases = [p["phase_name"] for p in obj.get("kill_chain_phases", [])
                  if p.get("kill_chain_name") in ("mitre-attack", "disarm")]
        if len(phases) != 1 or phases[0] not in tactic_of_phase:
            raise ValueError(f"{external_id(obj)}: expected one known DISARM phase, got {phases}")
        techniques.append({
            "id": external_id(obj), "name": obj["name"], "tactic": tactic_of_phase[phases[0]],
            "phase": phases[0],
            "parent": external_id(techniques_by_ref[parent[ref]]) if ref in parent else None,
            "stix_id": ref, "summary": summary(obj.get("description", ""))})
    techniques.sort(key=lambda t: [int(p) for p in re.findall(r"\d+", t["id"])])
    return {
        "framework": "DISARM Red Framework",
        "kill_chain_name": "disarm",
        "source": source,
        "licence": "CC BY-SA 4.0",
        "attribution": (marking.get("definition", {}).get("statement")
                        or "CC-BY-SA-4.0 DISARM Foundation"),
        "matrix_modified": matrix.get("modified"),
        "tactics": [{"id": external_id(t), "name": t["name"], "phase": t["x_mitre_shortname"],
                     "order": i + 1} for i, t in enumerate(tactics)],
        "techniques": techniques,
    }


def compact_json(table: dict) -> str:
    """One line per tactic and technique: small, and diffs of a new DISARM release read well."""
    head = {k: v for k, v in table.items() if k not in ("tactics", "techniques")}
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ","]
    for key in ("tactics", "techniques"):
        rows = [json.dumps(row, ensure_ascii=False) for row in table[key]]
        lines.append(f'"{key}": [\n' + ",\n".join(rows) + "\n]" + ("," if key == "tactics" else ""))
    return "\n".join(lines) + "}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", nargs="?", type=Path, default=DEFAULT_BUNDLE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if not args.bundle.is_file():
        sys.exit(f"DISARM bundle not found: {args.bundle}")
    source_txt = args.bundle.with_name("SOURCE.txt")
    commit = re.search(r"commit ([0-9a-f]{40}) \(([\d-]+)\)",
                       source_txt.read_text(encoding="utf-8")) if source_txt.is_file() else None
    source = ("DISARMFoundation/DISARMframeworks generated_files/DISARM_STIX/DISARM.json"
              + (f" @ {commit.group(1)} ({commit.group(2)})" if commit else ""))
    table = convert(json.loads(args.bundle.read_text(encoding="utf-8")), source)
    args.out.write_text(compact_json(table), encoding="utf-8")
    print(f"{len(table['techniques'])} techniques, {len(table['tactics'])} tactics → {args.out} "
          f"({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
