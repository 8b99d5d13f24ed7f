"""The registry of finding kinds: what each analysis's stored result is, in one place.

A *finding kind* (``episodes``, ``coincidences``, ``supply`` …) is the stored result of one
analysis. Everything that stores, filters, renders or exports findings asks this registry
instead of keeping its own list: the findings store validates kinds and computes item keys
with it, the briefing builds one section per kind, the web API serves one route per kind, the
dashboard's overview counts what each kind's hint says, and the STIX export maps each kind's
findings to its STIX type. Kind-specific *rendering* (a briefing section with charts, a STIX
builder with relationships) is registered in the layer that renders (``outputs``); a kind
without one gets the generic renderers, driven by ``display`` and ``significant_field`` here.

Adding a kind: write its analysis and workflow, then ``register(FindingKind(...))`` below (or
from your own module before the store is used). ``tests/test_finding_kinds.py`` then runs the
contract checks on it (store round-trip, TLP filtering, briefing, STIX export, API).

Most kinds are *stored as runs* of their analysis (``finding_runs``/``findings``); the
consumers that list runs iterate ``kinds()``, which returns those. Two kinds live elsewhere and
say so here (``stored_as``): ``review`` (analysts' verdicts on other kinds' findings, in
``finding_reviews``) and ``model_card`` (derived from the assessment run when read). A check of
the contract that does not fit a kind is named in its ``exemptions`` with the reason, so the
contract test runs every other check on it and never skips one silently.

Pure: no I/O, nothing imported from the layers above.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: How an item's TLP level is decided when a workflow records it (documented per kind; the
#: store keeps the level and every reader filters on it, whatever the rule).
TLP_RULES = {
    "events": "the most restricted level of the events it cites (event_ids)",
    "series": "the most restricted level of the events of the series it compares",
    "evidence": "the most restricted level of the evidence behind it (events and findings it "
                "cites or counts), computed by the workflow and passed with the report",
    "marked": "the level carried by the item itself (the records it was computed from)",
    "clear": "clear: its sources (articles, trade statistics) carry no TLP marking",
    "follows": "the level of what it belongs to: shown only with the finding it reviews, or "
               "the run it describes, and only to readers cleared for it",
}
#: The STIX 2.1 type of a finding's main object.
STIX_TYPES = ("campaign", "grouping", "note", "opinion")
#: Where a kind's findings live.
STORAGE = {
    "runs": "runs of its analysis in finding_runs / findings (store.findings_store)",
    "reviews": "analysts' reviews of other kinds' findings in finding_reviews "
               "(store.reviews_store)",
    "derived": "nothing of its own: derived from another kind's run when read",
}
#: The checks of the kind contract (tests/test_finding_kinds.py); a kind that does not fit one
#: names it in ``exemptions`` with the reason.
CONTRACT_CHECKS = ("round_trip", "tlp_store", "briefing", "tlp_briefing", "stix_export",
                   "stix_reimport", "tlp_stix", "api_route", "tlp_api", "dashboard", "record")


@dataclass(frozen=True)
class FindingKind:
    """The declaration of one kind of finding.

    ``items_field`` names the list in the analysis result that holds the items; an item's key
    (stable across runs, so its finding id is too) is its ``key_fields`` joined by
    ``key_sep`` (list values joined by commas). ``display`` names the item fields a generic
    renderer shows; ``significant_field`` the boolean that says an item passed its test.
    """

    name: str
    title: str                          # a section heading: "Multi-domain episodes"
    noun: str                           # what one item is, counted: "episode(s)"
    result_type: str                    # "module:Class" of the analysis result
    items_field: str
    key_fields: tuple[str, ...]
    tlp_rule: str
    command: str                        # how to produce it, with ``{db}`` for the store
    briefing_section: str               # view-model key and HTML section id
    stix_type: str                      # main STIX object of each finding
    api_route: str | None               # the listing endpoint, e.g. "/api/episodes"
    dashboard: str | None               # the overview's counter: its key in /api/overview
    key_sep: str = ":"
    display: tuple[str, ...] = ()
    significant_field: str | None = None
    description: str = ""
    dashboard_label: str = ""           # the counter's label on the dashboard (default: title)
    #: its inputs (trade data, screening lists) are absent from many stores: the briefing
    #: leaves its section out until it has run, rather than explaining how to run it
    optional: bool = False
    stored_as: str = "runs"             # one of STORAGE
    derived_from: str | None = None     # the kind a "derived" kind is read from
    #: (check, why it does not apply): checks of CONTRACT_CHECKS this kind is exempt from
    exemptions: tuple[tuple[str, str], ...] = ()
    #: summary fields that count the run's items: a reader who does not see the whole run
    #: gets them counted over the items it sees (``n_significant`` is recounted for every
    #: kind with a ``significant_field``)
    item_counts: tuple[str, ...] = ()
    #: summary fields of this kind shown to every reader besides ``SUMMARY_FIELDS_SHOWN``
    #: (settings and fixed text, never figures computed from the data)
    summary_shown: tuple[str, ...] = ()
    #: (item field, pattern, replacement): item text quoting a figure computed over the whole
    #: run (a backtest's skill); a reader who does not see the whole run keeps the words and
    #: gets the figure replaced (``withhold_run_figures``)
    run_figures: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.tlp_rule not in TLP_RULES:
            raise ValueError(f"finding kind {self.name!r}: tlp_rule {self.tlp_rule!r} is not "
                             f"one of {', '.join(TLP_RULES)}")
        if self.stix_type not in STIX_TYPES:
            raise ValueError(f"finding kind {self.name!r}: stix_type {self.stix_type!r} is "
                             f"not one of {', '.join(STIX_TYPES)}")
        if self.stored_as not in STORAGE:
            raise ValueError(f"finding kind {self.name!r}: stored_as {self.stored_as!r} is "
                             f"not one of {', '.join(STORAGE)}")
        if (self.stored_as == "derived") != (self.derived_from is not None):
            raise ValueError(f"finding kind {self.name!r}: derived_from names the kind a "
                             "'derived' kind is read from, and only then")
        if self.api_route is not None and not self.api_route.startswith("/api/"):
            raise ValueError(f"finding kind {self.name!r}: api_route must start with /api/")
        if not self.key_fields:
            raise ValueError(f"finding kind {self.name!r}: key_fields is empty")
        for check, reason in self.exemptions:
            if check not in CONTRACT_CHECKS or not reason.strip():
                raise ValueError(f"finding kind {self.name!r}: exemption {check!r} must name "
                                 f"one of {', '.join(CONTRACT_CHECKS)} and say why")
        exempt = self.exempt_from()
        for check, attribute in (("api_route", "api_route"), ("dashboard", "dashboard")):
            if (getattr(self, attribute) is None) != (check in exempt):
                raise ValueError(f"finding kind {self.name!r}: without an {attribute} it must "
                                 f"be exempt from the {check!r} check (and only then)")
        if self.stored_as == "runs" and self.tlp_rule == "follows":
            raise ValueError(f"finding kind {self.name!r}: a kind stored as runs decides its "
                             "own items' TLP levels")

    def exempt_from(self) -> dict[str, str]:
        """The contract checks this kind does not fit, with the reason for each."""
        return dict(self.exemptions)

    def key(self, item: Mapping[str, Any]) -> str:
        """The item's key within its kind (the finding id is derived from it)."""
        missing = [f for f in self.key_fields if item.get(f) is None]
        if missing:
            raise ValueError(f"{self.name}: item has no {', '.join(missing)} (its key fields)")
        return self.key_sep.join(
            ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
            for value in (item[f] for f in self.key_fields))

    def how_to_run(self, db: str = "hybridwatch.duckdb") -> str:
        return self.command.format(db=db)

    def result_class(self) -> type:
        """The analysis result type (imported on demand: it lives in a higher layer)."""
        module, _, name = self.result_type.partition(":")
        return getattr(importlib.import_module(module), name)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.name, "title": self.title, "noun": self.noun,
                "result_type": self.result_type, "tlp_rule": self.tlp_rule,
                "tlp_rule_text": TLP_RULES[self.tlp_rule], "command": self.command,
                "briefing_section": self.briefing_section, "stix_type": self.stix_type,
                "api_route": self.api_route, "dashboard": self.dashboard,
                "dashboard_label": self.dashboard_label or self.title,
                "optional": self.optional, "description": self.description,
                "stored_as": self.stored_as, "derived_from": self.derived_from,
                "exemptions": self.exempt_from()}


#: Summary fields a reader who does not see all of a run's inputs still gets: the analysis's
#: settings and fixed text, and the period it analysed (from the sources' coverage). Every other
#: field (totals such as ``n_events``, per-series counts, warnings that quote them, backtests,
#: input fingerprints …) may count records above the reader's clearance, and is left out: fail
#: closed, so a field a new analysis adds is withheld until it is listed here or in its
#: kind's ``summary_shown``.
SUMMARY_FIELDS_SHOWN = frozenset({
    "parameters", "counted", "window", "start", "end", "window_days", "lags", "null",
    "n_surrogates", "fdr", "combination", "a", "b", "freq", "weights", "components",
    "descriptions", "control", "caution", "horizon_days", "as_of", "evidence_tlp", "producer",
})
#: Said in place of the withheld fields (no numbers: how much is withheld is ``withheld``).
SUMMARY_WITHHELD = ("some findings or records behind this run are above your clearance: its "
                    "totals, warnings and input fingerprint are not shown, and its counts "
                    "cover only what you may see")


def partial_summary(kind: FindingKind, summary: Mapping[str, Any],
                    visible_items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A run's ``summary`` for a reader who does not see all that the run read: the fields
    every reader may see, counts of the run's items recounted over ``visible_items``, and
    ``summary_withheld`` saying that the rest is withheld. Equal for any two stores that differ
    only in records above the reader's clearance (the no-oracle rule of docs/security.md)."""
    shown = SUMMARY_FIELDS_SHOWN | set(kind.summary_shown)
    out = {k: v for k, v in summary.items() if k in shown}
    for field in kind.item_counts:
        if field in summary:
            out[field] = len(visible_items)
    if kind.significant_field and "n_significant" in summary:
        out["n_significant"] = sum(1 for item in visible_items
                                   if item.get(kind.significant_field))
    out["summary_withheld"] = SUMMARY_WITHHELD
    return out


def withhold_run_figures(kind: FindingKind, item: Mapping[str, Any]) -> dict[str, Any]:
    """``item`` for a reader who does not see the whole run: the run-wide figures its text
    quotes (``kind.run_figures``) replaced, the words kept."""
    out = dict(item)
    for field, pattern, replacement in kind.run_figures:
        value = out.get(field)
        if isinstance(value, str):
            out[field] = re.sub(pattern, replacement, value)
        elif isinstance(value, list):
            out[field] = [re.sub(pattern, replacement, v) if isinstance(v, str) else v
                          for v in value]
    return out


_REGISTRY: dict[str, FindingKind] = {}


def register(kind: FindingKind) -> FindingKind:
    """Add ``kind``; names, API routes, briefing sections and dashboard counters are unique."""
    if kind.derived_from is not None and kind.derived_from not in _REGISTRY:
        raise ValueError(f"finding kind {kind.name!r}: derived from unknown kind "
                         f"{kind.derived_from!r}")
    for other in _REGISTRY.values():
        for attribute in ("name", "api_route", "briefing_section", "dashboard"):
            value = getattr(kind, attribute)
            if value is not None and getattr(other, attribute) == value:
                raise ValueError(f"finding kind {kind.name!r}: {attribute} "
                                 f"{getattr(kind, attribute)!r} is already {other.name!r}'s")
    _REGISTRY[kind.name] = kind
    return kind


def kinds(stored_as: str | None = "runs") -> tuple[FindingKind, ...]:
    """The registered kinds stored as ``stored_as`` (default: runs, the kinds the findings
    store, briefing sections, API listings, overview and STIX export iterate; None: every
    kind), in the order a briefing presents them."""
    return tuple(k for k in _REGISTRY.values() if stored_as is None or k.stored_as == stored_as)


def kind_names(stored_as: str | None = "runs") -> tuple[str, ...]:
    return tuple(k.name for k in kinds(stored_as))


def get_kind(name: str) -> FindingKind:
    """The kind called ``name``; ``ValueError`` naming the known kinds otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown finding kind {name!r} (kinds: {', '.join(_REGISTRY)})"
                         ) from None


# The built-in kinds, in briefing order.
register(FindingKind(
    name="assessment", title="Key judgements", noun="judgement(s)",
    result_type="hybridwatch.analyses.risk:RiskResult", items_field="targets",
    key_fields=("target",), tlp_rule="evidence",
    command="hybridwatch assess --db {db}", briefing_section="assessment",
    stix_type="note", api_route="/api/assessments", dashboard="judgements",
    dashboard_label="key judgements",
    display=("target", "probability", "phia_term", "confidence", "statement"),
    run_figures=(("confidence_reasons", r"backtest skill \([^)]*\)",
                  "backtest skill (its figure is withheld at this level)"),),
    description="Calibrated probability per target of a hostile multi-domain episode."))
register(FindingKind(
    name="convergence", title="Convergence index", noun="convergence period(s)",
    result_type="hybridwatch.analyses.convergence:ConvergenceResult", items_field="periods",
    key_fields=("period",), tlp_rule="evidence",
    command="hybridwatch convergence --db {db}", briefing_section="convergence",
    stix_type="note", api_route="/api/convergence", dashboard="convergence",
    dashboard_label="convergence index",
    display=("period", "index", "low", "high", "confidence"),
    description="How far two actors act in concert, per period, with its uncertainty."))
register(FindingKind(
    name="episodes", title="Multi-domain episodes", noun="episode(s)",
    result_type="hybridwatch.workflows.coordination:EpisodesReport", items_field="episodes",
    key_fields=("start", "end", "targets", "domains"), tlp_rule="events",
    command="hybridwatch episodes --db {db} --target-group ISO3,ISO3,…",
    briefing_section="episodes", stix_type="campaign", api_route="/api/episodes",
    dashboard="episodes",
    dashboard_label="multi-domain episodes", display=("start", "end", "targets", "domains", "p_value"),
    description="Windows where several domains were jointly elevated against a target."))
register(FindingKind(
    name="coincidences", title="Coinciding activity", noun="coincidence pair(s)",
    result_type="hybridwatch.workflows.coordination:GridReport", items_field="pairs",
    key_fields=("b", "a"), key_sep=" -> ", tlp_rule="series",
    command="hybridwatch coincide --db {db} --grid 'SEL ; SEL ; …' --all-pairs",
    briefing_section="coincidences", stix_type="grouping", api_route="/api/coincidences",
    dashboard="significant_pairs",
    dashboard_label="coinciding series pairs", significant_field="significant",
    item_counts=("n_pairs", "n_testable"),
    display=("b", "a", "best_lag_days", "p_value", "q_value", "significant"),
    description="Ordered pairs of series where B's events precede A's beyond chance."))
register(FindingKind(
    name="narrative_sync", title="Synchronised narratives", noun="narrative(s)",
    result_type="hybridwatch.analyses.narrative_sync:SyncResult",
    items_field="narratives", key_fields=("narrative",), tlp_rule="clear",
    command="hybridwatch narratives build --db {db} && hybridwatch narratives sync --db {db}",
    briefing_section="narratives", stix_type="grouping", api_route="/api/narratives",
    dashboard="synchronised_narratives",
    dashboard_label="synchronised narratives", significant_field="significant",
    display=("narrative", "lead_actor", "lag_days", "q_value", "significant"),
    description="Narratives two actor groups' media push in step, and who leads."))
register(FindingKind(
    name="supply", title="Supply chains: diversion through third countries",
    noun="diversion candidate(s)", result_type="hybridwatch.analyses.diversion:DiversionResult",
    items_field="diversion", key_fields=("origin", "via", "destination"), key_sep=">",
    tlp_rule="clear",
    command="hybridwatch supply --db {db} --product 8542 --destination RUS",
    briefing_section="supply", stix_type="note", api_route="/api/supply",
    dashboard="diversion_candidates",
    dashboard_label="significant diversion candidates", significant_field="significant", optional=True,
    display=("via", "origin", "destination", "start", "excess_value_usd", "p_value",
             "q_value", "significant"),
    description="Transit countries whose flows rose with a break in origin→destination "
                "trade beyond their own trend: leads, not proof of evasion."))
register(FindingKind(
    name="screening", title="Screening-list matches", noun="screening match(es)",
    result_type="hybridwatch.workflows.screening:ScreeningReport", items_field="matches",
    key_fields=("name", "entry_id"), key_sep="|", tlp_rule="marked",
    command="hybridwatch screen --db {db} --list targets.simple.csv",
    briefing_section="screening", stix_type="note", api_route="/api/screening",
    dashboard="screening_matches",
    dashboard_label="screening-list matches", optional=True,
    display=("name", "listed_name", "list", "programme", "score"),
    description="Names in the data resembling names on screening lists: leads for an "
                "analyst to check, not established identities."))
register(FindingKind(
    name="review", title="Analyst reviews", noun="review(s)",
    result_type="hybridwatch.store.reviews_store:Review", items_field="reviews",
    key_fields=("finding_id", "review_id"), tlp_rule="follows",
    command="hybridwatch review FINDING_ID --verdict confirmed --analyst NAME --db {db}",
    briefing_section="rejected", stix_type="opinion",
    api_route="/api/findings/{finding_id}/reviews", dashboard=None, stored_as="reviews",
    display=("verdict", "analyst", "note", "reviewed_at"),
    description="An analyst's verdict on a finding (confirmed, rejected, needs-work) with a "
                "note: shown with the finding, a rejected one moves it to the annex.",
    exemptions=(
        ("tlp_store", "the store holds a review beside the finding it reviews and serves it "
                      "only through that finding (checked through the API, briefing and STIX "
                      "export)"),
        ("stix_reimport", "a STIX import does not restore reviews: a partner's opinions are "
                          "theirs, not this store's analysts'"),
        ("dashboard", "shown on each finding of the dashboard, not counted"),
        ("record", "analyst input, recorded by store.reviews_store.record_review, not an "
                   "analysis run"),
    )))
register(FindingKind(
    name="model_card", title="Model card: the risk model behind the judgements",
    noun="model card(s)", result_type="hybridwatch.workflows.model_card:model_card",
    items_field="features", key_fields=("run_id",), tlp_rule="follows",
    command="hybridwatch assess --db {db} && hybridwatch model-card --db {db}",
    briefing_section="model_card", stix_type="note", api_route=None, dashboard=None,
    stored_as="derived", derived_from="assessment",
    display=("intended_use", "out_of_scope", "metrics"),
    description="Intended and out-of-scope uses, training data, features and backtest "
                "metrics of the risk model (Mitchell et al., 2019), from the assessment run.",
    exemptions=(
        ("tlp_store", "nothing of its own is stored: it is rebuilt from the assessment run, "
                      "which the store filters"),
        ("api_route", "no API route: `hybridwatch model-card`, the briefing's annex and the "
                      "STIX note carry it"),
        ("tlp_api", "no API route"),
        ("dashboard", "not counted on the dashboard"),
        ("record", "derived when read; nothing is recorded"),
    )))
