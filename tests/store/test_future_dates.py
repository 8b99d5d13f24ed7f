"""Records dated after their ingest time are quarantined with that reason, in the row-wise
adapters (through ``RowBuilder``) and in the columnar GDELT SQL alike; a day's tolerance lets
sources a time zone ahead of UTC through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hybridwatch.adapters.base import ReadOptions
from hybridwatch.adapters.gdelt import GDELT2_COLUMNS
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

INGEST_TIME = datetime(2024, 3, 10, 12, 0)   # what the tests pretend "now" is


def _gdelt_line(event_id: int, sqldate: str) -> str:
    values = dict.fromkeys(GDELT2_COLUMNS, "")
    values.update(GLOBALEVENTID=str(event_id), SQLDATE=sqldate, MonthYear=sqldate[:6],
                  Year=sqldate[:4], EventCode="190", EventBaseCode="190", EventRootCode="19",
                  QuadClass="4", GoldsteinScale="-10.0", DATEADDED=sqldate + "120000",
                  SOURCEURL=f"https://example.org/{event_id}")
    return "\t".join(values[c] for c in GDELT2_COLUMNS)


def _cases(path: Path, dates: list[str]) -> Path:
    rows = [f"{d},https://euvsdisinfo.eu/report/{i}/,Case {i},Poland,NATO,Russian,RT"
            for i, d in enumerate(dates)]
    path.write_text("date,id,title,countries,keywords,languages,outlets\n"
                    + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["euvsdisinfo", "gdelt2"])
def test_records_dated_after_ingest_time_are_quarantined_with_the_reason(tmp_path, store_path,
                                                                          kind):
    # 03-10 (the ingest day), 03-11 (within the day's tolerance: kept), 03-12 and 2099 (rejected)
    if kind == "gdelt2":
        src = tmp_path / "20240310.export.CSV"
        src.write_text("\n".join(_gdelt_line(n, d) for n, d in
                                 enumerate(["20240310", "20240311", "20240312", "20990101"], 1))
                       + "\n", encoding="utf-8")
        field = "SQLDATE"
    else:
        src = _cases(tmp_path / "cases.csv", ["2024-03-10", "2024-03-11", "2024-03-12",
                                              "2099-01-01"])
        field = "occurred_at"
    with EventStore(store_path) as store:
        report = ingest_file(store, src, options=ReadOptions(ingest_time=INGEST_TIME))
        kept = [e["occurred_at"] for e in store.events().to_pylist()]
        bad = store.quarantine().to_pylist()
    assert report.format == kind
    assert (report.read, report.ingested, report.quarantined) == (4, 2, 2)
    assert kept == [datetime(2024, 3, 10), datetime(2024, 3, 11)]
    assert [q["line"] for q in bad] == ([3, 4] if kind == "gdelt2" else [4, 5])
    assert {q["field"] for q in bad} == {field}
    assert bad[0]["reason"] == ("dated after its ingest time (2024-03-12 00:00 is later than "
                                "2024-03-10 12:00 UTC + 1 day)")
    assert bad[1]["reason"].startswith("dated after its ingest time (2099-01-01 00:00")


def test_default_ingest_time_is_now(tmp_path, store_path):
    """Without an explicit ingest time, "now" is the reference: tomorrow passes, next week not."""
    today = datetime.now(UTC).date()
    src = _cases(tmp_path / "cases.csv", [str(today), str(today + timedelta(days=1)),
                                          str(today + timedelta(days=7))])
    with EventStore(store_path) as store:
        report = ingest_file(store, src)
        [bad] = store.quarantine().to_pylist()
    assert (report.ingested, report.quarantined) == (2, 1)
    assert bad["line"] == 4 and bad["reason"].startswith("dated after its ingest time")


def test_future_dated_articles_are_quarantined(tmp_path, store_path):
    src = tmp_path / "articles.jsonl"
    src.write_text('{"outlet": "rt.com", "published_at": "2024-03-09T08:00:00Z", "title": "a"}\n'
                   '{"outlet": "rt.com", "published_at": "2031-03-09T08:00:00Z", "title": "b"}\n',
                   encoding="utf-8")
    with EventStore(store_path) as store:
        report = ingest_file(store, src, options=ReadOptions(ingest_time=INGEST_TIME))
        [bad] = store.quarantine().to_pylist()
    assert (report.ingested, report.quarantined) == (1, 1)
    assert bad["field"] == "published_at" and bad["line"] == 2
    assert bad["reason"].startswith("dated after its ingest time (2031-03-09 08:00")
