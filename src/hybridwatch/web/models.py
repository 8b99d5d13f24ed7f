"""Response shapes, for the OpenAPI document (``/openapi.json``) and its clients."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    """A shape that lists its known fields and allows more (findings carry analysis-specific
    fields)."""

    model_config = ConfigDict(extra="allow")


class Event(Open):
    event_id: str
    source: str
    source_record_id: str | None = None
    occurred_at: str = Field(description="UTC, ISO 8601 with Z")
    occurred_precision: str | None = None
    ended_at: str | None = None
    actor_code: str | None = None
    actor_name: str | None = None
    actor_iso3: str | None = None
    target_iso3s: list[str] = Field(default_factory=list,
                                    description="every target country (ISO 3166 alpha-3)")
    target_sector: str | None = None
    location_name: str | None = None
    location_iso3: str | None = None
    lat: float | None = None
    lon: float | None = None
    domain: str
    source_type: str | None = None
    intensity: float | None = None
    intensity_kind: str | None = None
    title: str | None = None
    source_name: str | None = None
    source_url: str | None = None
    tlp: str | None = Field(None, description="TLP 2.0 level; null = clear")
    display_title: str | None = Field(None, description="the title, else (GDELT) the CAMEO "
                                      "action and the link's headline, else the source type")


class EventDetail(Event):
    extra: dict[str, Any] | str | None = None


class EventsPage(BaseModel):
    events: list[Event]
    count: int = Field(description="events on this page")
    limit: int
    next_cursor: str | None = Field(description="pass as cursor= for the next page; null at "
                                                "the end")
    total: int | None = Field(description="visible events matching the filters (null when "
                                          "count=false)")
    withheld: int | None = Field(description="events above your clearance in the whole store, "
                                             "never filtered (null "
                                             "when count=false)")
    filters: dict[str, Any]


class SeriesAnswer(BaseModel):
    freq: str
    by: str | None
    periods: list[str] = Field(description="start day of each period with events")
    groups: list[str | None] = Field(description="the by values ('(other)': the rest; "
                                                 "[null] without by)")
    counts: list[list[int]] = Field(description="events per group (row) and period (column)")
    intensity_sum: list[list[float | None]] | None = Field(
        description="intensity sums, same layout (with intensity=true)")
    withheld: int
    filters: dict[str, Any]


class CountRow(BaseModel):
    key: str | None
    n_events: int


class CountsAnswer(BaseModel):
    by: str
    counts: list[CountRow]
    total: int
    withheld: int
    filters: dict[str, Any]


class AnalysisWindowModel(Open):
    """The days an analysis ran on (both inclusive, UTC) and why: by default those every
    series' sources cover densely (``hybridwatch coverage``), or the analyst's --since/--until."""

    start: str
    end: str
    reason: str
    sources: list[str] = []


class FindingsAnswer(Open):
    """The latest run of an analysis as your clearance sees it: its summary fields, a page of
    ``items`` (each with ``finding_id`` and ``tlp``), ``total_items`` after filters, and
    ``withheld`` (items above your clearance). ``available`` is false until the analysis has
    been run on this store; ``window`` says which days it analysed."""

    kind: str
    window: AnalysisWindowModel | None = None
    available: bool
    items: list[dict[str, Any]]
    total_items: int
    withheld: int
    limit: int
    offset: int


class EvidenceGroup(BaseModel):
    domain: str
    actor: str | None
    n_events: int
    first_day: str
    last_day: str


class EvidencePage(BaseModel):
    events: list[Event]
    total: int
    withheld: int
    groups: list[EvidenceGroup] = Field(default_factory=list, description="the visible "
                                        "evidence by domain and actor, largest first")
    limit: int
    offset: int


class FindingDetail(Open):
    finding_id: str
    kind: str
    tlp: str
    evidence: EvidencePage | None = None


class NarrativeSeries(BaseModel):
    narrative: str
    freq: str
    groups: list[str]
    points: list[dict[str, Any]]


class PrincipalOut(BaseModel):
    token_id: str
    name: str
    role: str
    clearance: str


class TokenOut(BaseModel):
    token_id: str
    name: str
    role: str
    clearance: str
    created_at: str | None
    revoked_at: str | None
    token: str | None = Field(None, description="the secret: only in the creation answer")


class TokenList(BaseModel):
    tokens: list[TokenOut]


class TokenCreate(BaseModel):
    role: str = Field(description="viewer, analyst or admin")
    name: str | None = Field(None, max_length=100)
    clearance: str | None = Field(None, description="lower than the role's default, optional")


class AuditEntry(BaseModel):
    at: str | None
    token_id: str | None
    name: str | None
    role: str | None
    action: str
    resource: str
    detail: dict[str, Any]
    status: int


class AuditAnswer(BaseModel):
    entries: list[AuditEntry]
    count: int


class ReviewCreate(BaseModel):
    verdict: Literal["confirmed", "rejected", "needs-work"] = Field(
        description="rejected findings leave the briefing")
    note: str = Field("", max_length=2000, description="why (required unless confirmed)")


class ReviewOut(BaseModel):
    review_id: int
    finding_id: str
    kind: str
    run_id: str
    verdict: str
    note: str
    analyst: str
    reviewed_at: str


class AlertDeliveryOut(BaseModel):
    """Where the alert's webhook delivery stands (``hybridwatch watch run``)."""

    state: str = Field(description="pending, delivered, failed (retried by the next run) or "
                                   "withheld (its finding is now above the watch's clearance: "
                                   "never sent)")
    attempts: int = Field(description="POSTs made so far, over every run")
    last_attempt_at: str | None
    http_status: int | None = Field(None, description="the receiver's last answer")
    error: str | None = Field(None, description="why the last attempt failed, or why withheld")


class AlertOut(BaseModel):
    alert_id: int
    watch_id: int
    watch: str | None = Field(None, description="the watch's name")
    finding_id: str
    kind: str
    run_id: str
    tlp: str
    message: str
    raised_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    open: bool
    delivery: AlertDeliveryOut | None = Field(
        None, description="the webhook delivery, for an alert of a watch with a webhook")


class AlertsAnswer(BaseModel):
    """Alerts raised by the saved watches (``hybridwatch watch run``), newest first, within
    your clearance; ``withheld`` counts those above it."""

    alerts: list[AlertOut]
    total: int
    withheld: int
    limit: int
    offset: int


class ActorTargetLink(BaseModel):
    actor: str = Field(description="actor country, ISO3")
    target: str = Field(description="target country, ISO3")
    domain: str
    n_events: int


class ActorTargetsAnswer(BaseModel):
    links: list[ActorTargetLink]
    total_links: int = Field(description="links matching the filters, before the limit")
    withheld: int = Field(description="events above your clearance in the whole store, never "
                                      "filtered")
    filters: dict[str, Any]
