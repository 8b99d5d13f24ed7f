"""Stores built from generated reporting shapes (tests/analyses/coverage_data.py), ingested
through the real CSV + mapping path so ``source_days`` is maintained as in use."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analyses"))
from coverage_data import growing_reports, weekly_batches  # noqa: E402

from hybridwatch.store import EventStore  # noqa: E402
from hybridwatch.workflows.ingest import ingest_file  # noqa: E402

MAPPING = """[source]
name = "{name}"
format = "csv"

[fields]
source_record_id = "id"
occurred_at = {{ column = "date", format = "%Y-%m-%d" }}
domain = {{ const = "{domain}" }}
actor_iso3 = {{ const = "RUS" }}
target_iso3 = {{ const = "{target}" }}
"""


def write_source(directory: Path, name: str, domain: str, target: str, days: np.ndarray,
                 records: np.ndarray) -> tuple[Path, Path]:
    """A CSV with one row per record and its TOML mapping."""
    csv = directory / f"{name}.csv"
    rows = np.repeat(days, records).astype(str)
    csv.write_text("id,date\n" + "".join(f"{name}-{i},{d}\n" for i, d in enumerate(rows)))
    mapping = directory / f"{name}.toml"
    mapping.write_text(MAPPING.format(name=name, domain=domain, target=target))
    return csv, mapping


def ingest_sources(db: Path, directory: Path, sources) -> None:
    from hybridwatch.adapters import ReadOptions

    with EventStore(db) as store:
        for name, domain, target, (days, records) in sources:
            csv, mapping = write_source(directory, name, domain, target, days, records)
            report = ingest_file(store, csv, format="mapped",
                                 options=ReadOptions(mapping_path=mapping))
            assert report.ingested == int(records.sum()), report


def two_sources(seed: int) -> list:
    """Disinformation cases 2015-04..2017-10 in weekly batches, and STIX-like campaign reports
    2005–2020 growing after 2014 — independent of each other."""
    rng = np.random.default_rng(seed)
    return [("disinfo_cases", "information", "DEU",
             weekly_batches(rng, "2015-04-01", "2017-10-31", per_batch=3.0, off_day_rate=0.15)),
            ("stix_campaigns", "cyber", "DEU",
             growing_reports(rng, "2005-01-01", "2020-12-31", early_per_year=6,
                             late_per_year=150))]
