"""The contract every registered finding kind meets, checked for each (as scikit-learn's common
checks run over every estimator): its runs round-trip through the store, an item above the
reader's clearance is never visible (store, briefing, STIX export, API), the briefing renders
its section, and the STIX export carries and restores its findings.

The contract store holds a real run of every kind: the STIX test store's five analyses (60 days
of the demo scenario, episodes and coincidences recorded through their workflows), a ``supply``
run on a generated Comtrade file with a planted diversion, and a ``screening`` run of a names
file against the fixture screening lists. A newly registered kind fails
``test_every_kind_has_a_run`` until its analysis runs here too — then every check covers it.
For the TLP checks the runs are stored again with their items' levels cycled through
CLEAR … RED (the first item RED), so every kind has items on both sides of each clearance.

Two kinds are not stored as runs (``stored_as``): ``review`` — the contract store holds an
analyst's confirmation of the first judgement and a rejection of the first episode, both RED in
the TLP store — and ``model_card``, derived from the assessment run. The checks that fit them
run below; the others each kind names in its ``exemptions`` with the reason
(``test_every_check_runs_or_is_declared_exempt``).
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest

from hybridwatch.model.finding_kinds import (
    CONTRACT_CHECKS,
    FindingKind,
    get_kind,
    kind_names,
    kinds,
    register,
)
from hybridwatch.model.tlp import TLP_LEVELS, tlp_rank
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.store.findings_store import finding, finding_id, items_of, latest_run, save_run

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LISTS = [FIXTURES / "screening" / "targets.simple.csv",
         FIXTURES / "screening" / "consolidated_screening_list.csv"]
KINDS = kind_names()                 # the kinds stored as runs
ALL_KINDS = kind_names(None)
BELOW_RED = TLP_LEVELS[:-1]
#: The checks this module runs on a kind, by where the kind's findings live.
COVERED = {
    "runs": set(CONTRACT_CHECKS),
    "reviews": {"round_trip", "briefing", "tlp_briefing", "stix_export", "tlp_stix",
                "api_route", "tlp_api"},
    "derived": {"round_trip", "briefing", "tlp_briefing", "stix_export", "stix_reimport",
                "tlp_stix"},
}
#: The notes of the contract store's reviews (each on a finding that is RED in the TLP store).
REVIEW_NOTES = {"assessment": ("confirmed", "contract-note-on-the-first-judgement"),
                "episodes": ("rejected", "contract-note-on-the-first-episode")}


def _bare(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("finding_id", "tlp")}


def _build(directory: Path) -> Path:
    from outputs.stix_store import build_store
    from supply.trade_data import write_comtrade

    from hybridwatch.workflows.screening import record_screening, run_screening
    from hybridwatch.workflows.supply import SupplyQuery, record_supply, run_supply

    path = build_store(directory)["path"]
    truth = write_comtrade(directory / "trade.csv", [3])[0]
    names = directory / "shipments.csv"
    names.write_text("date,importer\n2024-01-05,ООО Квазитрон\n2024-02-01,Ural Polimikron\n"
                     "2024-03-01,Kvazitron Ltd\n", encoding="utf-8")
    with EventStore(path) as store:
        ingest_file(store, directory / "trade.csv")
        record_supply(store, run_supply(store, SupplyQuery(
            product=truth.product, destination="RUS", origin="DEU,NLD,ITA",
            break_month="2022-03")))
        record_screening(store, run_screening(store, LISTS, names_file=names,
                                              column="importer"))
        from hybridwatch.store.reviews_store import record_review

        for kind, (verdict, note) in REVIEW_NOTES.items():
            record_review(store, latest_run(store, kind).items[0]["finding_id"],
                          verdict=verdict, note=note, analyst="contract analyst")
    return path


@pytest.fixture(scope="module")
def contract_db(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("finding-kinds"))


@pytest.fixture(scope="module")
def tlp_db(contract_db: Path, tmp_path_factory) -> Path:
    """The contract store with every run stored again, its items' levels cycled (RED first)."""
    path = tmp_path_factory.mktemp("finding-kinds-tlp") / "store.duckdb"
    shutil.copy(contract_db, path)
    with EventStore(path) as store:
        for kind in KINDS:
            run = latest_run(store, kind)
            items = [_bare(i) for i in run.items]
            levels = [TLP_LEVELS[(n - 1) % len(TLP_LEVELS)] for n in range(len(items))]
            save_run(store, kind, run.summary, items_of(kind, items, levels))
    return path


_LEVELS: dict[tuple[Path, str], dict[str, str]] = {}


def _levels(path: Path, kind: str) -> dict[str, str]:
    """Finding id → stored level of the kind's run (read once: the API test's app then holds
    the store open)."""
    if (path, kind) not in _LEVELS:
        with EventStore(path, read_only=True) as store:
            _LEVELS[(path, kind)] = {i["finding_id"]: i["tlp"]
                                     for i in latest_run(store, kind).items}
    return _LEVELS[(path, kind)]


def _above(levels: dict[str, str], clearance: str) -> set[str]:
    return {fid for fid, level in levels.items() if tlp_rank(level) > tlp_rank(clearance)}


# ---- the registry itself ---------------------------------------------------------------------

def test_every_kind_has_a_run(contract_db: Path) -> None:
    with EventStore(contract_db, read_only=True) as store:
        empty = [k for k in KINDS if not (latest_run(store, k) and latest_run(store, k).items)]
    assert not empty, f"add a run with items of {empty} to this test's contract store"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_declaration_is_complete(kind: str) -> None:
    declared = get_kind(kind)
    assert declared.result_class().__name__ == declared.result_type.split(":")[1]
    assert declared.command.startswith("hybridwatch ") and "{db}" in declared.command
    assert set(declared.display) and declared.noun and declared.title
    assert json.loads(json.dumps(declared.to_dict()))["kind"] == kind


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_check_runs_or_is_declared_exempt(kind: str) -> None:
    """No check is skipped silently: each runs on the kind, or the kind says why it does not
    apply."""
    declared = get_kind(kind)
    exempt = set(declared.exempt_from())
    assert all(reason.strip() for reason in declared.exempt_from().values())
    assert COVERED[declared.stored_as] | exempt == set(CONTRACT_CHECKS), kind
    assert not COVERED[declared.stored_as] & exempt, f"{kind}: exempt from a check it passes"


def test_only_run_kinds_are_stored_as_runs(tmp_path: Path) -> None:
    from hybridwatch.errors import StoreError

    assert set(ALL_KINDS) - set(KINDS) == {"review", "model_card"}
    with EventStore(tmp_path / "s.duckdb") as store:
        for kind in ("review", "model_card"):
            with pytest.raises(StoreError, match="not stored as runs"):
                save_run(store, kind, {}, [])
    with pytest.raises(ValueError, match="must be exempt from the 'dashboard' check"):
        FindingKind(**{**get_kind("review").__dict__, "name": "x", "exemptions": ()})
    with pytest.raises(ValueError, match="exemption 'guess'"):
        FindingKind(**{**get_kind("review").__dict__, "name": "x",
                       "exemptions": (("guess", "because"),)})


def test_register_refuses_clashes_and_bad_rules() -> None:
    episodes = get_kind("episodes")
    with pytest.raises(ValueError, match="already 'episodes'"):
        register(FindingKind(**{**episodes.__dict__, "name": "other"}))
    with pytest.raises(ValueError, match="tlp_rule 'guess'"):
        FindingKind(**{**episodes.__dict__, "name": "other", "tlp_rule": "guess"})
    with pytest.raises(ValueError, match="unknown finding kind 'nope'"):
        get_kind("nope")
    assert [k.name for k in kinds()][:5] == ["assessment", "convergence", "episodes",
                                             "coincidences", "narrative_sync"]


def test_keys_are_those_stored_before_the_registry() -> None:
    """Finding ids stay stable across the change: keys are spelt as the workflows spelt them."""
    assert get_kind("episodes").key({"start": "2024-01-10", "end": "2024-01-12",
                                     "targets": ["TWN", "JPN"], "domains": ["cyber", "military"]}
                                    ) == "2024-01-10:2024-01-12:TWN,JPN:cyber,military"
    assert get_kind("coincidences").key({"a": "x", "b": "y"}) == "y -> x"
    assert get_kind("supply").key({"origin": "DEU,NLD", "via": "KAZ",
                                   "destination": "RUS"}) == "DEU,NLD>KAZ>RUS"
    assert get_kind("screening").key({"name": "A", "entry_id": "e-1"}) == "A|e-1"
    with pytest.raises(ValueError, match="no target"):
        get_kind("assessment").key({"probability": 0.1})


# ---- the contract, per kind --------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_store_round_trip(kind: str, contract_db: Path, tmp_path: Path) -> None:
    with EventStore(contract_db, read_only=True) as store:
        run = latest_run(store, kind)
    declared = get_kind(kind)
    # the workflow keyed its items with the registry's key
    assert [i["finding_id"] for i in run.items] == [
        finding_id(kind, declared.key(i)) for i in run.items]
    items = [_bare(i) for i in run.items]
    with EventStore(tmp_path / "copy.duckdb") as store:
        save_run(store, kind, run.summary, items_of(kind, items, [i["tlp"] for i in run.items]))
        again = latest_run(store, kind)
    assert again.summary == run.summary
    assert list(again.items) == list(run.items)    # ids, levels, every value, the order
    assert json.loads(json.dumps(again.to_dict(), allow_nan=False))["kind"] == kind


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("clearance", TLP_LEVELS)
def test_store_never_shows_an_item_above_the_clearance(kind: str, clearance: str,
                                                       tlp_db: Path) -> None:
    levels = _levels(tlp_db, kind)
    above = _above(levels, clearance)
    with EventStore(tlp_db, read_only=True) as store:
        run = latest_run(store, kind, clearance=clearance)
        assert {i["finding_id"] for i in run.items} == set(levels) - above
        assert run.withheld == len(above)
        for fid in above:
            assert finding(store, fid, clearance=clearance) is None
        if clearance != "red":
            assert above, "the cycled levels put an item above every clearance but RED"


_HTML: dict[tuple[Path, str], str] = {}


def _briefing(path: Path, tlp: str) -> tuple[dict[str, Any], str]:
    from hybridwatch.outputs.briefing import build_context, html_from_context

    with EventStore(path, read_only=True) as store:
        ctx = build_context(store, tlp=tlp)
    if (path, tlp) not in _HTML:
        _HTML[(path, tlp)] = html_from_context(ctx)
    return ctx, _HTML[(path, tlp)]


@pytest.mark.parametrize("kind", KINDS)
def test_briefing_renders_the_section(kind: str, contract_db: Path) -> None:
    declared = get_kind(kind)
    ctx, html = _briefing(contract_db, "red")
    section = ctx[declared.briefing_section]
    assert section["ran"] and section["kind"] == kind
    assert declared.title in html
    assert ctx["meta"]["runs"] and kind in {r["kind"] for r in ctx["meta"]["runs"]}
    # what the briefing lists of the kind is anchored by finding id, and is the stored items
    with EventStore(contract_db, read_only=True) as store:
        stored = {i["finding_id"] for i in latest_run(store, kind).items}
    shown = {fid for fid in stored if f'id="f-{fid}"' in html}
    assert shown, f"the briefing shows none of the {kind} findings"


@pytest.mark.parametrize("clearance", BELOW_RED)
def test_briefing_never_shows_an_item_above_the_clearance(clearance: str, tlp_db: Path) -> None:
    _, html = _briefing(tlp_db, clearance)
    for kind in KINDS:
        above = _above(_levels(tlp_db, kind), clearance)
        assert above and not [fid for fid in above if fid in html], kind


@pytest.fixture(scope="module")
def bundles(tlp_db: Path) -> dict[str, str]:
    from hybridwatch.outputs.stix_export import export_stix

    with EventStore(tlp_db, read_only=True) as store:
        return {tlp: export_stix(store, tlp=tlp).to_json() for tlp in TLP_LEVELS}


@pytest.mark.parametrize("kind", KINDS)
def test_stix_export_carries_and_restores_the_findings(kind: str, bundles: dict[str, str],
                                                        tlp_db: Path, tmp_path: Path) -> None:
    from hybridwatch.outputs.stix_export import main_stix_id

    bundle = json.loads(bundles["red"])
    objects = {o["id"]: o for o in bundle["objects"]}
    levels = _levels(tlp_db, kind)
    for fid in levels:
        main = main_stix_id(kind, fid)
        assert main in objects and objects[main]["type"] == get_kind(kind).stix_type
    (tmp_path / "bundle.json").write_text(bundles["red"], encoding="utf-8")
    with EventStore(tmp_path / "partner.duckdb") as store:
        report = ingest_file(store, tmp_path / "bundle.json")
        restored = latest_run(store, kind)
    assert report.quarantined == 0 and restored is not None
    back = {i["finding_id"]: i["tlp"] for i in restored.items}
    assert set(back) == set(levels)
    # a finding travels at least as restricted as stored (more if its evidence is: an
    # assessment citing a RED episode is RED)
    assert all(tlp_rank(back[f]) >= tlp_rank(levels[f]) for f in levels)


@pytest.mark.parametrize("clearance", BELOW_RED)
def test_stix_export_never_carries_an_item_above_the_clearance(clearance: str,
                                                                bundles: dict[str, str],
                                                                tlp_db: Path) -> None:
    text = bundles[clearance]
    for kind in KINDS:
        above = _above(_levels(tlp_db, kind), clearance)
        assert above and not [fid for fid in above if fid in text], kind


# ---- the kinds not stored as runs: reviews and the model card -----------------------------------

_REVIEWED: dict[Path, dict[str, str]] = {}
_ASSESSMENT: dict[Path, list[dict[str, Any]]] = {}


def _reviewed(path: Path) -> dict[str, str]:
    """Kind → the finding id its contract review is on (read once, like ``_levels``)."""
    if path not in _REVIEWED:
        with EventStore(path, read_only=True) as store:
            _REVIEWED[path] = {kind: latest_run(store, kind).items[0]["finding_id"]
                               for kind in REVIEW_NOTES}
    return _REVIEWED[path]


def _judgements(path: Path) -> list[dict[str, Any]]:
    """The assessment run's items with their levels (read once)."""
    if path not in _ASSESSMENT:
        with EventStore(path, read_only=True) as store:
            _ASSESSMENT[path] = list(latest_run(store, "assessment").items)
    return _ASSESSMENT[path]


def test_review_round_trip(contract_db: Path, tmp_path: Path) -> None:
    from hybridwatch.store.reviews_store import record_review, reviews_of

    path = tmp_path / "store.duckdb"
    shutil.copy(contract_db, path)
    fid = _reviewed(path)["episodes"]
    with EventStore(path) as store:
        done = record_review(store, fid, verdict="needs-work", note="check the dates",
                             analyst="a. analyst")
        stored = reviews_of(store, fid)
    assert stored[-1] == done and len(stored) == 2
    assert (done.kind, done.verdict, done.note) == ("episodes", "needs-work", "check the dates")
    data = json.loads(json.dumps(done.to_dict(), allow_nan=False))
    assert {f: data[f] for f in get_kind("review").display[:3]} == {
        "verdict": "needs-work", "analyst": "a. analyst", "note": "check the dates"}
    assert get_kind("review").key(data) == f"{fid}:{done.review_id}"


def test_reviews_in_the_briefing_only_with_their_findings(tlp_db: Path) -> None:
    _, html = _briefing(tlp_db, "red")
    for verdict, note in REVIEW_NOTES.values():
        assert note in html, f"the {verdict} review is not in the RED briefing"
    for clearance in BELOW_RED:       # both reviewed findings are RED in this store
        _, html = _briefing(tlp_db, clearance)
        assert not [n for _, n in REVIEW_NOTES.values() if n in html], clearance


def test_reviews_in_the_stix_export_only_with_their_findings(bundles: dict[str, str],
                                                             tlp_db: Path) -> None:
    from hybridwatch.outputs.stix_export import main_stix_id

    reviewed = _reviewed(tlp_db)
    opinions = [o for o in json.loads(bundles["red"])["objects"] if o["type"] == "opinion"]
    for kind, (verdict, note) in REVIEW_NOTES.items():
        on = [o for o in opinions if o["object_refs"] == [main_stix_id(kind, reviewed[kind])]]
        assert on and note in on[-1]["explanation"], kind
    for clearance in BELOW_RED:
        assert not [n for _, n in REVIEW_NOTES.values() if n in bundles[clearance]], clearance


def _card(path: Path) -> dict[str, Any]:
    from hybridwatch.workflows.model_card import model_card

    with EventStore(path, read_only=True) as store:
        return model_card(store, run=latest_run(store, get_kind("model_card").derived_from),
                          from_store=False)


def test_model_card_round_trip(contract_db: Path) -> None:
    card = _card(contract_db)
    assert json.loads(json.dumps(card, allow_nan=False)) == card
    assert card == _card(contract_db)                          # derived: the same every time
    assert get_kind("model_card").key(card["evaluation"]) == card["evaluation"]["run_id"]
    assert isinstance(card[get_kind("model_card").items_field], list)


@pytest.mark.parametrize("clearance", TLP_LEVELS)
def test_model_card_in_the_briefing_carries_no_withheld_judgement(clearance: str,
                                                                  tlp_db: Path) -> None:
    ctx, html = _briefing(tlp_db, clearance)
    assert ctx["model_card"] and get_kind("model_card").title in html
    text = json.dumps(ctx["model_card"])
    withheld = [i for i in _judgements(tlp_db) if tlp_rank(i["tlp"]) > tlp_rank(clearance)]
    assert not [i for i in withheld if i["finding_id"] in text or
                (i.get("statement") and i["statement"] in text)]


@pytest.mark.parametrize("clearance", TLP_LEVELS)
def test_model_card_travels_in_the_stix_export_and_is_rebuilt_from_the_import(
        clearance: str, bundles: dict[str, str], tlp_db: Path, tmp_path: Path) -> None:
    from hybridwatch.model.stix_findings import note_record

    notes = [r for o in json.loads(bundles[clearance])["objects"] if o["type"] == "note"
             and (r := note_record(o.get("content"))) and r["hybridwatch"] == "model-card"]
    assert len(notes) == 1
    withheld = [i for i in _judgements(tlp_db) if tlp_rank(i["tlp"]) > tlp_rank(clearance)]
    assert not [i for i in withheld if i.get("statement") and i["statement"] in
                json.dumps(notes[0]["card"])]
    if clearance != "red":
        return
    (tmp_path / "bundle.json").write_text(bundles["red"], encoding="utf-8")
    with EventStore(tmp_path / "partner.duckdb") as store:
        ingest_file(store, tmp_path / "bundle.json")
    assert _card(tmp_path / "partner.duckdb") == notes[0]["card"]


@pytest.fixture(scope="module")
def api(tlp_db: Path):
    """A TestClient on the TLP store, a GREEN viewer's and a RED admin's tokens."""
    from hybridwatch.store.access_store import create_token
    from hybridwatch.web.app import create_app

    for kind in KINDS:
        _levels(tlp_db, kind)
    _reviewed(tlp_db)
    _judgements(tlp_db)
    with EventStore(tlp_db) as store:
        tokens = {"green": create_token(store, role="viewer", clearance="green").token,
                  "red": create_token(store, role="admin").token}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(create_app(tlp_db)) as client:
        yield client, tokens


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("clearance", ["green", "red"])
def test_api_route_serves_the_kind_within_the_clearance(kind: str, clearance: str, api,
                                                        tlp_db: Path) -> None:
    client, tokens = api
    declared = get_kind(kind)
    levels = _levels(tlp_db, kind)
    above = _above(levels, clearance)
    answer = client.get(declared.api_route, params={"limit": 500},
                        headers={"Authorization": f"Bearer {tokens[clearance]}"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["kind"] == kind and body["available"] and body["withheld"] == len(above)
    assert {i["finding_id"] for i in body["items"]} == set(levels) - above
    overview = client.get("/api/overview",
                          headers={"Authorization": f"Bearer {tokens[clearance]}"}).json()
    if kind not in ("assessment", "convergence"):
        counter = {c["kind"]: c for c in overview["counters"]}[kind]
        assert counter["withheld"] == len(above)
        assert overview[declared.dashboard]["count"] == counter["count"]
    # the overview names the run it shows of each kind
    assert {r["kind"]: r["run_id"] for r in overview["runs"]}[kind] == body["run_id"]


@pytest.mark.parametrize("kind", KINDS)
def test_record_applies_the_kinds_tlp_rule(kind: str, contract_db: Path, tmp_path: Path) -> None:
    """``record(store, report)`` gives each item the level the kind's workflow gave it (an
    ``evidence`` rule needs the levels from the workflow: without them it refuses)."""
    from hybridwatch.errors import StoreError
    from hybridwatch.workflows.recording import record, report_of

    declared = get_kind(kind)
    path = tmp_path / "store.duckdb"
    shutil.copy(contract_db, path)
    with EventStore(path) as store:
        run = latest_run(store, kind)
        # items as read (a "marked" item carries its level in its own ``tlp`` field)
        report = report_of(kind, {**run.summary, declared.items_field: [
            {k: v for k, v in i.items() if k != "finding_id"} for i in run.items]})
        if declared.tlp_rule == "evidence":
            with pytest.raises(StoreError, match="needs the levels"):
                record(store, report)
            return
        again = record(store, report)
        assert latest_run(store, kind).run_id == again.run_id != run.run_id
        assert [i["tlp"] for i in latest_run(store, kind).items] == [
            i["tlp"] for i in run.items]


@pytest.mark.parametrize("clearance", ["green", "red"])
def test_reviews_in_the_api_only_with_their_findings(clearance: str, api, tlp_db: Path) -> None:
    client, tokens = api
    for kind, (verdict, note) in REVIEW_NOTES.items():
        fid = _reviewed(tlp_db)[kind]
        answer = client.get(f"/api/findings/{fid}",
                            headers={"Authorization": f"Bearer {tokens[clearance]}"})
        if clearance == "red":
            assert answer.status_code == 200, answer.text
            assert [(r["verdict"], r["note"]) for r in answer.json()["reviews"]] == [
                (verdict, note)]
        else:
            assert answer.status_code == 404 and note not in answer.text
