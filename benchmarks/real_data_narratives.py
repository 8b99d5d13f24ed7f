"""Narratives on the real data in ../shared/data: the numbers of docs/findings-real-data.md.

    python benchmarks/real_data_narratives.py     # prints a markdown block, writes out/*.json

1. EUvsDisinfo case titles clustered into narratives, scored against the cases' own keywords as
   weak labels (NMI and "share of cases carrying their narrative's top keyword"), with the same
   clusters shuffled as the chance baseline.
2. The 2022 Chinese state-media headlines with BBC as control: narratives, their size, and which
   ones BBC hardly covers. (Synchronisation needs two actor groups; this corpus has one, so it is
   not run here.)
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from hybridwatch.analyses.narratives import fit_narratives
from hybridwatch.model.outlet_groups import load_outlet_groups
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.store.narratives_store import list_narratives
from hybridwatch.workflows.narrative_build import build_narratives

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
OUT = Path(__file__).resolve().parent / "out"


def _top_keyword_share(labels: list[str], keywords: list[set[str]]) -> float:
    members: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        members.setdefault(label, []).append(i)
    hits = 0
    for group in members.values():
        counts = Counter(k for i in group for k in keywords[i])
        top = max(counts, key=lambda k: (counts[k], k)) if counts else None
        hits += sum(top in keywords[i] for i in group)
    return hits / len(labels)


def euvsdisinfo() -> dict:
    with (DATA / "euvsdisinfo_cknabs" / "posts.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["title"]]
    keywords = [{k.strip() for k in r["keywords"].split("+") if k.strip()} for r in rows]
    first = [r["keywords"].split("+")[0].strip() for r in rows]
    _, result = fit_narratives([r["title"] for r in rows])
    ids = [n or "-" for n in result.narrative_ids]
    shuffled = list(np.random.default_rng(0).permutation(ids))
    return {"cases": len(rows), "narratives": len(set(ids) - {"-"}),
            "nmi_first_keyword": normalized_mutual_info_score(first, ids),
            "nmi_shuffled": normalized_mutual_info_score(first, shuffled),
            "top_keyword_share": _top_keyword_share(ids, keywords),
            "top_keyword_share_shuffled": _top_keyword_share(shuffled, keywords)}


def cn_headlines() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        with EventStore(Path(tmp) / "store.duckdb") as store:
            ingest_file(store, DATA / "cn_state_media_headlines_2022" / "headlines_all.csv")
            build = build_narratives(store)
            listed = list_narratives(store, outlet_groups=load_outlet_groups())
    total = sum(n["size"] for n in listed)
    bbc_share = sum(n["by_actor"].get("control", 0) for n in listed) / total
    low_bbc = [n for n in listed if n["by_actor"].get("control", 0) < 0.02 * n["size"]]
    return {"articles": build.articles_considered, "narratives": len(listed),
            "seconds": build.seconds, "bbc_share": bbc_share,
            "largest": [(n["label"], n["size"]) for n in listed[:6]],
            "state_only": len(low_bbc),
            "state_only_examples": [(n["label"], n["size"]) for n in low_bbc[:6]]}


def main() -> None:
    results = {"euvsdisinfo": euvsdisinfo(), "cn_headlines": cn_headlines()}
    OUT.mkdir(exist_ok=True)
    (OUT / "real_data_narratives.json").write_text(json.dumps(results, indent=2))
    e, c = results["euvsdisinfo"], results["cn_headlines"]
    print(f"**EUvsDisinfo case titles** ({e['cases']:,}): {e['narratives']} narratives. "
          f"NMI against each case's first keyword {e['nmi_first_keyword']:.2f} (same clusters "
          f"shuffled: {e['nmi_shuffled']:.2f}); {e['top_keyword_share']:.1%} of cases carry "
          f"their narrative's most common keyword (shuffled: "
          f"{e['top_keyword_share_shuffled']:.1%}).\n")
    print(f"**Chinese state media + BBC, 2022** ({c['articles']:,} headlines with a title): "
          f"{c['narratives']} narratives in {c['seconds']:.0f} s. Largest: "
          + "; ".join(f"{label} ({size:,})" for label, size in c["largest"])
          + f". BBC is {c['bbc_share']:.1%} of all headlines; {c['state_only']} narratives have "
          f"under 2% BBC headlines, e.g. "
          + "; ".join(f"{label} ({size:,})" for label, size in c["state_only_examples"]) + ".")


if __name__ == "__main__":
    main()
