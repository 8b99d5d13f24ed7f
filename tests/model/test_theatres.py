"""The theatre table: shipped entries, overrides, validation, and where events lie (in SQL).

Truth is geography, written here by hand: points whose sea is not in doubt, places in no theatre,
and place names as sources write them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridwatch.errors import InputError, SelectorError
from hybridwatch.model.theatres import ENV_VAR, alias_pattern, find_theatre, load_theatres
from hybridwatch.store import EventStore

REQUIRED = {"Taiwan Strait", "South China Sea", "East China Sea", "Baltic Sea", "Black Sea",
            "Barents Sea", "Eastern Mediterranean", "Sea of Japan", "Sea of Azov",
            "Persian Gulf / Strait of Hormuz", "Red Sea / Bab-el-Mandeb", "Arctic"}

# (lat, lon) → theatre, or None
POINTS = [
    ((24.0, 119.5), "Taiwan Strait"), ((10.0, 114.0), "South China Sea"),
    ((15.15, 117.76), "South China Sea"),            # Scarborough Shoal
    ((25.75, 123.5), "East China Sea"),              # Senkaku Islands
    ((40.0, 135.0), "Sea of Japan"), ((55.3, 16.5), "Baltic Sea"),
    ((60.0, 26.0), "Baltic Sea"),                    # Gulf of Finland
    ((43.0, 35.0), "Black Sea"),                     # GDELT's "Black Sea, Oceans (general)"
    ((46.0, 36.5), "Sea of Azov"), ((72.0, 40.0), "Barents Sea"), ((85.0, 0.0), "Arctic"),
    ((33.0, 34.0), "Eastern Mediterranean"), ((27.0, 51.5), "Persian Gulf / Strait of Hormuz"),
    ((20.0, 38.5), "Red Sea / Bab-el-Mandeb"), ((12.5, 47.0), "Red Sea / Bab-el-Mandeb"),
    ((52.5, 13.4), None),                            # Berlin
    ((0.0, -150.0), None), ((40.0, 5.0), None),      # Pacific; western Mediterranean
]
NAMES = [("Ostsee bei Kiel", "Baltic Sea"), ("台湾海峡", "Taiwan Strait"),
         ("Kerch Strait, Ukraine", "Sea of Azov"), ("in der Straße von Hormus", None),
         ("Strait of Hormuz", "Persian Gulf / Strait of Hormuz"),
         ("Blacksea Hotel, Varna", None), ("Biển Đông", "South China Sea"),
         ("somewhere over the black sea", "Black Sea"), ("Berlin", None)]


def test_shipped_table_has_the_theatres_with_countries() -> None:
    theatres = load_theatres()
    assert REQUIRED <= {t.name for t in theatres}
    taiwan = find_theatre(theatres, "taiwan strait")
    assert set(taiwan.countries) == {"CHN", "TWN"}
    assert "台湾海峡" in taiwan.aliases
    for theatre in theatres:
        assert theatre.countries and len(theatre.polygon) >= 3


def _store(tmp_path: Path, rows: list[tuple], **options) -> EventStore:
    store = EventStore(tmp_path / "t.duckdb", **options)
    store._con.executemany(
        "INSERT INTO events (event_id, source, source_record_id, occurred_at, "
        "occurred_precision, domain, lat, lon, location_name, location_iso3, target_iso3s) "
        "VALUES (?, 'test', ?, '2024-01-01', 'day', 'military', ?, ?, ?, ?, "
        "list_filter([?::VARCHAR], lambda x: x IS NOT NULL))",  # one target, or none
        [(str(i), str(i), *row) for i, row in enumerate(rows)])
    return store


def _theatres(store: EventStore) -> list:
    table = store.ibis_events(located=True).order_by("event_id").to_pyarrow()
    return table["theatre"].to_pylist()


def test_points_and_names_fall_in_their_theatre(tmp_path: Path) -> None:
    rows = [(lat, lon, None, None, None) for (lat, lon), _ in POINTS]
    rows += [(None, None, name, None, None) for name, _ in NAMES]
    with _store(tmp_path, rows) as store:
        got = _theatres(store)
    expected = [t for _, t in POINTS] + [t for _, t in NAMES]
    order = sorted(range(len(rows)), key=str)  # event ids sort as strings
    assert [got[order.index(i)] for i in range(len(rows))] == expected


def test_where_is_target_else_location_else_theatre(tmp_path: Path) -> None:
    rows = [(24.0, 119.5, None, None, "TWN"),    # target wins
            (24.0, 119.5, None, "CHN", None),    # then the location country
            (24.0, 119.5, None, None, None),     # then the theatre
            (52.5, 13.4, None, None, None)]      # nowhere
    with _store(tmp_path, rows) as store:
        table = store.ibis_events(located=True).order_by("event_id").to_pyarrow()
    assert table["wheres"].to_pylist() == [["TWN"], ["CHN"], ["Taiwan Strait"], []]
    assert table["where_kind"].to_pylist() == ["target", "location", "theatre", None]


def test_a_user_file_overrides_adds_and_replaces(tmp_path: Path) -> None:
    own = tmp_path / "own.toml"
    own.write_text('''
[[theatre]]
name = "Gotland Deep"
countries = ["SWE"]
bbox = [18.0, 56.5, 21.0, 58.5]

[[theatre]]
name = "Taiwan Strait"
countries = ["TWN"]
aliases = ["Formosa"]
bbox = [118.0, 22.0, 121.0, 26.0]
''', encoding="utf-8")
    theatres = load_theatres(own)
    names = {t.name for t in theatres}
    assert REQUIRED | {"Gotland Deep"} == names
    assert find_theatre(theatres, "Taiwan Strait").countries == ("TWN",)
    # the smaller theatre wins inside the Baltic; the environment variable reaches the store
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_VAR, str(own))
        with _store(tmp_path, [(57.5, 19.5, None, None, None), (55.3, 16.5, None, None, None)]
                    ) as store:
            assert _theatres(store) == ["Gotland Deep", "Baltic Sea"]
            assert store.check_theatres(["gotland deep"]) == ["Gotland Deep"]
    only = tmp_path / "only.toml"
    only.write_text('replace_shipped = true\n[[theatre]]\nname = "Alone"\n'
                    'countries = ["NOR"]\nbbox = [0, 60, 10, 70]\n', encoding="utf-8")
    assert [t.name for t in load_theatres(only)] == ["Alone"]
    with EventStore(tmp_path / "x.duckdb", theatres=only) as store:
        with pytest.raises(SelectorError, match="unknown theatre 'Baltic Sea'.*Alone"):
            store.check_theatres(["Baltic Sea"])


@pytest.mark.parametrize(("text", "field", "reason"), [
    ('[[theatre]]\nname = "X"\ncountries = ["XXX"]\nbbox = [0, 0, 1, 1]\n', "countries",
     "'XXX' is not an ISO 3166 alpha-3 code"),
    ('[[theatre]]\nname = "X"\ncountries = ["DEU"]\npolygon = [[0, 0], [1, 1]]\n', "polygon",
     "at least three"),
    ('[[theatre]]\nname = "X"\ncountries = ["DEU"]\npolygon = [[0, 0], [1, 1], [200, 1]]\n',
     "polygon", "vertex 3"),
    ('[[theatre]]\nname = "X"\ncountries = ["DEU"]\nbbox = [0, 0, 1, 1]\n'
     'polygon = [[0, 0], [1, 1], [0, 1]]\n', "polygon", "either polygon"),
    ('[[theatre]]\nname = "X"\ncountries = ["DEU"]\nbbox = [0, 0, 1, 1]\ncolour = "red"\n',
     "colour", "unknown key"),
    ('[[theatre]]\ncountries = ["DEU"]\nbbox = [0, 0, 1, 1]\n', "name", "non-empty name"),
])
def test_a_bad_file_says_where_and_why(tmp_path: Path, text: str, field: str, reason: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_theatres(bad)
    assert str(bad) in str(error.value) and error.value.field == field
    assert reason in str(error.value)


def test_alias_patterns_match_words_in_latin_and_substrings_elsewhere() -> None:
    assert alias_pattern("Black Sea") == r"(?i)\bBlack\s+Sea\b"
    assert alias_pattern("台湾海峡") == "(?i)台湾海峡"
    assert alias_pattern("Östersjön") == r"(?i)Östersjön\b"
