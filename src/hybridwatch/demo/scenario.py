"""A deterministic, multi-domain demo scenario written in the real source formats.

``generate_scenario(out_dir, random_state=7)`` writes one year of fictional activity::

    gdelt/scenario.export.CSV    GDELT 2.0 events (61 columns): diplomacy, information, military,
                                 social, political, economy between RUS, CHN, DEU, POL, TWN, USA
    stix/bundle.json             STIX 2.1: campaigns of APT-DEMO-RU / APT-DEMO-CN with TLP 2.0
    euvsdisinfo/cases.csv        EUvsDisinfo-style cases against DEU, POL, UKR, LTU
    articles/articles.jsonl      state-media (ru_state, cn_state) and control outlets
    mapped/pla_sorties.csv+.toml daily PLA sorties and ships around Taiwan, with its mapping
    ground_truth.json            what was planted: episodes, couplings, narratives, parameters

Background activity per series is a log-Gaussian Cox process: log-rate = base + weekly cycle +
annual sinusoid + linear trend + AR(1) noise (bursts lasting days), counts gamma-Poisson
(overdispersed). Planted on top: coordinated episodes (3+ domains within a few days, far above
baseline, one of them the assessment's own Hamburg / Taiwan Strait / Poland scenario), couplings
(series B follows series A within 1–3 days with probability p) and shared narratives (one group
of outlets leads, the other follows after a known lag). Same seed, same bytes.

How strong a planted episode is (the rule ``EPISODES`` follows): the background is bursty
(AR(1) log-rate with stationary s.d. ≈ 0.47, gamma noise with CV ≈ 0.7), so a single busy series
reaches 4–5× its median 3-day sum a few times a year on its own. A planted hit therefore adds,
within three days, at least twice the 99th percentile of its series' background 3-day
sums within a year (≈ 10–50× the median; for sparse series such as cyber, 8+ events where the
background rarely has 2). Each domain of an episode is then unmistakable on its own target, and
the episode is the conjunction of several such domains within a few days.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from hybridwatch.demo import scenario_campaigns as camp
from hybridwatch.demo import scenario_convergence as conv

from hybridwatch.demo import scenario_articles as arts
from hybridwatch.demo.scenario_trade import write_trade
from hybridwatch.demo.scenario_formats import (
    PLACES,
    EventDraws,
    write_euvsdisinfo,
    write_gdelt,
    write_pla,
    write_stix,
)

__all__ = ["COUPLINGS", "EPISODES", "SERIES", "ScenarioFiles", "generate_scenario"]


@dataclass(frozen=True)
class SeriesSpec:
    """One background event series: source, domain, actor → target, and its rates."""

    key: str
    source: str                 # gdelt | stix | euvsdisinfo
    domain: str
    actor_iso3: str
    target_iso3: str
    per_weekday: float          # mean events on a weekday, before season/trend/bursts
    codes: tuple[str, ...]      # CAMEO codes (gdelt) or targeted sectors (stix)
    weekend: float = 0.55       # weekend rate as a share of the weekday rate
    season: float = 0.2         # amplitude of the annual sinusoid (log scale)
    trend: float = 0.1          # log-rate change over a year

    def selector(self) -> dict[str, str]:
        return {"source": self.source, "domain": self.domain, "actor_iso3": self.actor_iso3,
                "target_iso3": self.target_iso3}


_DIP = ("036", "040", "042", "043", "046", "111", "112", "120", "160")
_INFO = ("010", "012", "016")
_MIL = ("138", "150", "152", "154")
_SOC = ("141", "143", "145")
_CYB = ("energy", "government-national", "transportation", "telecommunications", "defense")
SERIES: tuple[SeriesSpec, ...] = (
    SeriesSpec("gdelt-dip-RUS-DEU", "gdelt", "diplomacy", "RUS", "DEU", 6.0, _DIP),
    SeriesSpec("gdelt-info-RUS-DEU", "gdelt", "information", "RUS", "DEU", 4.5, _INFO),
    SeriesSpec("gdelt-dip-RUS-POL", "gdelt", "diplomacy", "RUS", "POL", 4.5, _DIP),
    SeriesSpec("gdelt-info-RUS-POL", "gdelt", "information", "RUS", "POL", 4.0, _INFO),
    SeriesSpec("gdelt-mil-RUS-POL", "gdelt", "military", "RUS", "POL", 0.25, _MIL, 0.9, 0.3),
    SeriesSpec("gdelt-pol-RUS-POL", "gdelt", "political", "RUS", "POL", 0.2, ("130",), 0.7),
    SeriesSpec("gdelt-dip-CHN-TWN", "gdelt", "diplomacy", "CHN", "TWN", 4.0, _DIP),
    SeriesSpec("gdelt-mil-CHN-TWN", "gdelt", "military", "CHN", "TWN", 0.4, _MIL[1:], 0.9, 0.4),
    SeriesSpec("gdelt-info-CHN-TWN", "gdelt", "information", "CHN", "TWN", 3.0, _INFO),
    SeriesSpec("gdelt-dip-CHN-USA", "gdelt", "diplomacy", "CHN", "USA", 7.5, _DIP),
    SeriesSpec("gdelt-dip-USA-CHN", "gdelt", "diplomacy", "USA", "CHN", 7.5, _DIP),
    SeriesSpec("gdelt-dip-USA-RUS", "gdelt", "diplomacy", "USA", "RUS", 6.0, _DIP),
    SeriesSpec("gdelt-dip-DEU-RUS", "gdelt", "diplomacy", "DEU", "RUS", 4.5, _DIP),
    SeriesSpec("gdelt-dip-POL-RUS", "gdelt", "diplomacy", "POL", "RUS", 4.0, _DIP),
    SeriesSpec("gdelt-dip-TWN-CHN", "gdelt", "diplomacy", "TWN", "CHN", 2.5, _DIP),
    SeriesSpec("gdelt-dip-DEU-CHN", "gdelt", "diplomacy", "DEU", "CHN", 3.0, _DIP),
    SeriesSpec("gdelt-eco-CHN-DEU", "gdelt", "economy", "CHN", "DEU", 2.5, ("061", "163")),
    SeriesSpec("gdelt-soc-DEU-DEU", "gdelt", "social", "DEU", "DEU", 3.0, _SOC, 1.3, 0.3),
    SeriesSpec("gdelt-soc-POL-POL", "gdelt", "social", "POL", "POL", 2.0, _SOC, 1.3, 0.3),
    SeriesSpec("gdelt-soc-TWN-TWN", "gdelt", "social", "TWN", "TWN", 1.2, _SOC, 1.3, 0.3),
    SeriesSpec("stix-cyber-RUS-DEU", "stix", "cyber", "RUS", "DEU", 0.12, _CYB, 0.7),
    SeriesSpec("stix-cyber-RUS-POL", "stix", "cyber", "RUS", "POL", 0.10, _CYB, 0.7),
    SeriesSpec("stix-cyber-CHN-TWN", "stix", "cyber", "CHN", "TWN", 0.10, _CYB, 0.7),
    SeriesSpec("stix-cyber-CHN-DEU", "stix", "cyber", "CHN", "DEU", 0.05, _CYB, 0.7),
    SeriesSpec("stix-cyber-CHN-USA", "stix", "cyber", "CHN", "USA", 0.06, _CYB, 0.7),
    SeriesSpec("disinfo-RUS-DEU", "euvsdisinfo", "information", "RUS", "DEU", 0.15, (), 0.4),
    SeriesSpec("disinfo-RUS-POL", "euvsdisinfo", "information", "RUS", "POL", 0.25, (), 0.4),
    SeriesSpec("disinfo-RUS-UKR", "euvsdisinfo", "information", "RUS", "UKR", 0.6, (), 0.4),
    SeriesSpec("disinfo-RUS-LTU", "euvsdisinfo", "information", "RUS", "LTU", 0.08, (), 0.4),
)
_BY_KEY = {s.key: s for s in SERIES}

#: (id, A series, B series, lag range in days (inclusive), probability that an A event is followed)
COUPLINGS = (
    ("cyber-DEU-then-disinfo-DEU", "stix-cyber-RUS-DEU", "disinfo-RUS-DEU", (1, 3), 0.6),
    ("military-POL-then-disinfo-POL", "gdelt-mil-RUS-POL", "disinfo-RUS-POL", (1, 2), 0.5),
    ("military-TWN-then-cyber-TWN", "gdelt-mil-CHN-TWN", "stix-cyber-CHN-TWN", (1, 3), 0.35),
)
#: Pairs planted as independent: checks of the false-positive rate.
INDEPENDENT_PAIRS = (("stix-cyber-CHN-DEU", "disinfo-RUS-LTU"),
                     ("gdelt-pol-RUS-POL", "stix-cyber-CHN-USA"))


@dataclass(frozen=True)
class Hit:
    """One planted burst inside an episode: ``per_day`` events for ``n_days`` from ``offset``."""

    series: str                 # a SERIES key, "pla" (sorties spike) or "articles:<key>"
    offset: int
    n_days: int
    per_day: float
    codes: tuple[str, ...] = ()  # override of the series' codes / sectors
    label: str = ""             # name of a planted STIX campaign


@dataclass(frozen=True)
class EpisodeSpec:
    id: str
    title: str
    start_fraction: float
    duration_days: int
    hits: tuple[Hit, ...]


_HAMBURG = "Operation Harbour Fog: cyber attack on Hamburg port logistics"
EPISODES = (
    EpisodeSpec("pl-infrastructure", "Pressure on Polish infrastructure", 0.08, 3, (
        Hit("stix-cyber-RUS-POL", 0, 2, 4, ("energy", "transportation")),
        Hit("gdelt-soc-POL-POL", 1, 2, 40), Hit("disinfo-RUS-POL", 1, 2, 4),
        Hit("gdelt-info-RUS-POL", 1, 2, 50))),
    EpisodeSpec("baltic-pressure", "Russian military and information pressure on Poland", 0.20, 4, (
        Hit("gdelt-mil-RUS-POL", 0, 3, 8), Hit("stix-cyber-RUS-POL", 1, 2, 4),
        Hit("disinfo-RUS-POL", 2, 2, 4),
        Hit("gdelt-dip-RUS-POL", 1, 3, 50, ("111", "112", "120")))),
    EpisodeSpec("strait-surge", "PLA surge around Taiwan", 0.38, 4, (
        Hit("gdelt-mil-CHN-TWN", 0, 4, 14, ("150", "152", "154")), Hit("pla", 0, 4, 55),
        Hit("stix-cyber-CHN-TWN", 1, 2, 4), Hit("gdelt-info-CHN-TWN", 1, 3, 35),
        Hit("articles:taiwan-drills", 0, 3, 6))),
    EpisodeSpec("de-election", "Interference in a German election", 0.60, 5, (
        Hit("disinfo-RUS-DEU", 0, 4, 4), Hit("stix-cyber-RUS-DEU", 1, 2, 4),
        Hit("gdelt-soc-DEU-DEU", 2, 3, 40), Hit("gdelt-info-RUS-DEU", 0, 4, 45),
        Hit("articles:germany-election", 0, 4, 5))),
    EpisodeSpec("hamburg-strait-poland", "Hamburg port cyber attack, Taiwan Strait exercise and "
                "Russian disinformation in Poland", 0.79, 5, (
        Hit("stix-cyber-RUS-DEU", 0, 1, 1, ("transportation",), _HAMBURG),
        Hit("stix-cyber-RUS-DEU", 1, 2, 4, ("transportation",)),
        Hit("gdelt-mil-CHN-TWN", 1, 3, 15, ("150", "152", "154")), Hit("pla", 1, 3, 60),
        Hit("disinfo-RUS-POL", 2, 3, 5), Hit("gdelt-info-RUS-POL", 2, 3, 50),
        Hit("articles:poland-disinfo", 2, 3, 6))),
)


_PRESSURE = ("111", "112", "120", "160")   # hostile diplomacy: criticise, reject, reduce relations
#: Hidden campaigns (``scenario_campaigns``): per target, the hostile series a campaign lifts and
#: the hits of each coordinated episode it plants (three hostile domains or more, each far above
#: its background as the rule above requires).
CAMPAIGNS: dict[str, dict[str, Any]] = {
    "DEU": {"lift": ("stix-cyber-RUS-DEU", "disinfo-RUS-DEU", "gdelt-soc-DEU-DEU",
                     "gdelt-dip-RUS-DEU"),
            "hits": (Hit("disinfo-RUS-DEU", 0, 3, 6), Hit("stix-cyber-RUS-DEU", 1, 2, 8),
                     Hit("gdelt-soc-DEU-DEU", 1, 3, 40),
                     Hit("gdelt-dip-RUS-DEU", 0, 3, 40, _PRESSURE))},
    "POL": {"lift": ("gdelt-mil-RUS-POL", "stix-cyber-RUS-POL", "disinfo-RUS-POL",
                     "gdelt-dip-RUS-POL"),
            "hits": (Hit("gdelt-mil-RUS-POL", 0, 3, 8), Hit("stix-cyber-RUS-POL", 1, 2, 8),
                     Hit("disinfo-RUS-POL", 1, 2, 6),
                     Hit("gdelt-dip-RUS-POL", 0, 3, 40, _PRESSURE))},
}


@dataclass(frozen=True)
class ScenarioFiles:
    """Paths of a generated scenario."""

    root: Path
    gdelt: Path
    stix: Path
    euvsdisinfo: Path
    articles: Path
    pla_csv: Path
    pla_mapping: Path
    ground_truth: Path
    trade_csv: Path | None = None
    gdelt_convergence: Path | None = None

    def inputs(self) -> tuple[tuple[Path, str, Path | None], ...]:
        """``(file, format name, mapping)`` for each input, in ingest order."""
        return ((self.gdelt, "gdelt2", None), (self.stix, "stix", None),
                (self.euvsdisinfo, "euvsdisinfo", None), (self.articles, "articles-jsonl", None),
                (self.pla_csv, "mapped", self.pla_mapping)) + (
            ((self.trade_csv, "comtrade", None),) if self.trade_csv else ()) + (
            ((self.gdelt_convergence, "gdelt2", None),) if self.gdelt_convergence else ())


AR_PHI, AR_SIGMA, GAMMA_SHAPE = 0.85, 0.25, 2.0  # bursts last ~1/(1-φ) ≈ 7 days


def background_counts(rng: np.random.Generator, specs: tuple[SeriesSpec, ...], start: date,
                      n_days: int) -> np.ndarray:
    """Daily counts ``[series, day]``: weekly cycle, annual sinusoid, trend, AR(1) bursts,
    gamma-Poisson noise. Vectorised over series; one loop over days for the AR(1)."""
    t = np.arange(n_days)
    weekday = (start.weekday() + t) % 7
    base = np.log([s.per_weekday for s in specs])[:, None]
    weekend = np.array([s.weekend for s in specs])[:, None]
    weekly = np.log(np.where(weekday[None, :] >= 5, weekend, 1.0))
    phase = rng.uniform(0, 2 * np.pi, (len(specs), 1))
    season = np.array([s.season for s in specs])[:, None] * np.sin(2 * np.pi * t / 365.25 + phase)
    trend = np.array([s.trend for s in specs])[:, None] * t / 365.0
    phi, sigma = AR_PHI, AR_SIGMA
    shocks = rng.normal(0.0, sigma, (len(specs), n_days))
    bursts = np.empty_like(shocks)
    bursts[:, 0] = shocks[:, 0] / np.sqrt(1 - phi**2)
    for day in range(1, n_days):
        bursts[:, day] = phi * bursts[:, day - 1] + shocks[:, day]
    mean = np.exp(base + weekly + season + trend + bursts - sigma**2 / (2 * (1 - phi**2)))
    return rng.poisson(rng.gamma(GAMMA_SHAPE, mean / GAMMA_SHAPE))


class _Draws:
    """Events drawn so far per source, each tagged with its origin for the ground truth."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[int, str, str, str, str, str, str]]] = {
            "gdelt": [], "stix": [], "euvsdisinfo": []}

    def add(self, spec: SeriesSpec, days: np.ndarray, origin: str, codes: np.ndarray,
            label: str = "") -> None:
        for day, code in zip(days.tolist(), codes.tolist()):
            self.rows[spec.source].append((day, spec.actor_iso3, spec.target_iso3, spec.domain,
                                           code, origin, label))

    def arrays(self, source: str) -> tuple[EventDraws, list[str]]:
        rows = self.rows[source]
        days, actors, targets, domains, codes, origins, labels = (list(c) for c in zip(*rows))
        draws = EventDraws(np.array(days, dtype=np.int64), *(np.array(c, dtype=object) for c in
                                                           (actors, targets, domains, codes)),
                           np.array([o != "background" for o in origins]),
                           np.array(labels, dtype=object))
        return draws, origins


def _codes(rng: np.random.Generator, pool: tuple[str, ...], n: int) -> np.ndarray:
    return np.array(pool, dtype=object)[rng.integers(0, len(pool), n)] if pool else \
        np.full(n, "", dtype=object)


def generate_scenario(out_dir: Path, *, random_state: int = 7, start: date = date(2024, 1, 1),
                      days: int = 365, campaigns: bool = False,
                      releasable_planted: bool = True) -> ScenarioFiles:
    """Write the scenario under ``out_dir`` (created if missing) and return its paths.

    ``campaigns`` adds the hidden campaigns of ``scenario_campaigns`` (lifted hostile activity
    and many more coordinated episodes against Germany, Poland and Taiwan), drawn from their
    own random stream: every other planted effect stays exactly as it is without them.
    ``releasable_planted``: STIX campaigns in a planted episode's window are marked at most
    AMBER (the level the demo briefs at); False keeps every campaign's random marking (tests
    of TLP enforcement that want restricted evidence everywhere)."""
    if days < 60:
        raise ValueError(f"days must be at least 60 to hold the planted episodes (got {days})")
    rng = np.random.default_rng(random_state)
    out = Path(out_dir)
    files = ScenarioFiles(out, out / "gdelt" / "scenario.export.CSV", out / "stix" / "bundle.json",
                          out / "euvsdisinfo" / "cases.csv", out / "articles" / "articles.jsonl",
                          out / "mapped" / "pla_sorties.csv", out / "mapped" / "pla_sorties.toml",
                          out / "ground_truth.json", out / "trade" / "comtrade_monthly.csv",
                          out / "gdelt" / "convergence.export.CSV")
    for path in (files.gdelt, files.stix, files.euvsdisinfo, files.articles, files.pla_csv):
        path.parent.mkdir(parents=True, exist_ok=True)

    draws = _Draws()
    counts = background_counts(rng, SERIES, start, days)
    background_days = {}
    for spec, row in zip(SERIES, counts):
        background_days[spec.key] = np.repeat(np.arange(days), row)
        draws.add(spec, background_days[spec.key], "background",
                  _codes(rng, spec.codes, int(row.sum())))
    coupling_truth = [_plant_coupling(rng, draws, background_days, c, days) for c in COUPLINGS]

    plan = arts.ArticlePlan()
    weekday = (start.weekday() + np.arange(days)) % 7
    media_mood = np.exp(0.15 * np.sin(2 * np.pi * np.arange(days) / 365.25))
    arts.plan_background(plan, rng, days, weekday, media_mood)
    narrative_truth = arts.plan_narratives(plan, rng, days)

    sorties, ships = _pla_background(rng, days, weekday)
    episode_truth = [_plant_episode(rng, draws, plan, sorties, ships, e, days) for e in EPISODES]
    campaign_truth = _plant_campaigns(np.random.default_rng([random_state, 3]), draws, plan,
                                      sorties, ships, days, episode_truth) if campaigns else None

    record_ids = {}
    for source, writer, path in (("gdelt", write_gdelt, files.gdelt),
                                 ("stix", write_stix, files.stix),
                                 ("euvsdisinfo", write_euvsdisinfo, files.euvsdisinfo)):
        source_draws, origins = draws.arrays(source)
        extra = {"capped": _in_planted_windows(source_draws, episode_truth)} \
            if source == "stix" and releasable_planted else {}
        record_ids[source] = (writer(path, source_draws, start, rng, **extra), origins)
    article_ids = arts.write_articles(files.articles, plan, start, rng)
    trade_truth = _write_convergence(files, start, days, random_state)
    pla_dates = write_pla(files.pla_csv, files.pla_mapping, start, sorties.tolist(), ships.tolist())

    truth = _ground_truth(record_ids, article_ids, plan, pla_dates, episode_truth,
                          coupling_truth, narrative_truth, start, days, random_state)
    truth["trade_diversion"] = trade_truth
    if campaign_truth is not None:
        truth["campaigns"] = _campaign_ground_truth(campaign_truth, record_ids, start)
    files.ground_truth.write_text(json.dumps(truth, indent=1, sort_keys=True, ensure_ascii=False)
                                  + "\n", encoding="utf-8")
    return files


def _write_convergence(files: ScenarioFiles, start: date, days: int, random_state: int
                       ) -> dict[str, Any]:
    """RUS↔CHN cooperation (its own GDELT file) and trade (a Comtrade file with CHN→RUS listed
    products and a planted diversion; ground truth returned), from their own random streams, so
    every other planted effect — and every other file — is exactly what it would be without
    them."""
    rng = np.random.default_rng([random_state, 2])
    draws = _Draws()
    for actor, target in (("RUS", "CHN"), ("CHN", "RUS")):
        spec = SeriesSpec(f"gdelt-coop-{actor}-{target}", "gdelt", "diplomacy", actor, target,
                          1.0, conv.COOPERATIVE_CODES)
        coop_days = conv.cooperation_days(rng, days)
        draws.add(spec, coop_days, "convergence", rng.choice(conv.COOPERATIVE_CODES,
                                                             coop_days.size))
    write_gdelt(files.gdelt_convergence, draws.arrays("gdelt")[0], start, rng,
                first_id=1_190_000_000)
    return write_trade(files.trade_csv, start, days, random_state)


def _plant_coupling(rng: np.random.Generator, draws: _Draws, background_days: dict[str, np.ndarray],
                    coupling: tuple, n_days: int) -> dict[str, Any]:
    """Each background A event is followed by one B event 1–3 days later with probability p."""
    cid, a_key, b_key, (lag_min, lag_max), p = coupling
    a_days = background_days[a_key]
    followed = rng.random(len(a_days)) < p
    b_days = a_days[followed] + rng.integers(lag_min, lag_max + 1, int(followed.sum()))
    b_days = b_days[b_days < n_days]
    b_spec = _BY_KEY[b_key]
    draws.add(b_spec, b_days, f"coupling:{cid}", _codes(rng, b_spec.codes, len(b_days)))
    return {"id": cid, "a": _BY_KEY[a_key].selector(), "b": b_spec.selector(),
            "lag_days": [lag_min, lag_max], "probability": p, "n_a_background": len(a_days),
            "n_b_planted": len(b_days)}


def _pla_background(rng: np.random.Generator, n_days: int,
                    weekday: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Daily sorties (bursty, fewer on Sundays, seasonal) and ships."""
    t = np.arange(n_days)
    season = np.exp(0.3 * np.sin(2 * np.pi * (t - 60) / 365.25))
    mean = 9.0 * season * np.where(weekday == 6, 0.6, 1.0)
    sorties = rng.poisson(rng.gamma(1.5, mean / 1.5))
    ships = rng.poisson(5.0, n_days)
    return sorties, ships


#: Days either side of a planted episode whose campaigns against its targets are marked at most
#: the demo briefing's level (detected windows can start or end a little off the planted one).
PLANTED_MARGIN_DAYS = 3


def _in_planted_windows(draws: EventDraws, episodes: list[dict[str, Any]]) -> np.ndarray:
    """Which draws fall in a planted episode's window (± the margin) against one of its
    targets: their markings are capped so the demo's briefing level shows the episode."""
    capped = np.zeros(len(draws.day), dtype=bool)
    for episode in episodes:
        in_days = ((draws.day >= episode["start_day"] - PLANTED_MARGIN_DAYS)
                   & (draws.day <= episode["end_day"] + PLANTED_MARGIN_DAYS))
        capped |= in_days & np.isin(draws.target_iso3, episode["targets_iso3"])
    return capped


def _plant_episode(rng: np.random.Generator, draws: _Draws, plan: arts.ArticlePlan,
                   sorties: np.ndarray, ships: np.ndarray, episode: EpisodeSpec,
                   n_days: int, first: int | None = None) -> dict[str, Any]:
    first = int(episode.start_fraction * n_days) if first is None else first
    targets, domains, pla_days = [], [], []
    for hit in episode.hits:
        hit_days = np.arange(first + hit.offset, min(first + hit.offset + hit.n_days, n_days))
        per_day = np.maximum(rng.poisson(hit.per_day, len(hit_days)), int(np.ceil(hit.per_day / 2)))
        if hit.label:  # a named campaign happens once
            per_day = np.ones(len(hit_days), dtype=int)
        if hit.series == "pla":
            sorties[hit_days] += per_day
            ships[hit_days] += rng.integers(8, 15, len(hit_days))
            pla_days += hit_days.tolist()
            found = ("military", "TWN")
        elif hit.series.startswith("articles:"):
            arts.plan_episode_articles(plan, rng, episode.id, hit.series.split(":", 1)[1],
                                       int(hit_days[0]), len(hit_days), hit.per_day, n_days)
            found = ("information", None)
        else:
            spec = _BY_KEY[hit.series]
            event_days = np.repeat(hit_days, per_day)
            draws.add(spec, event_days, f"episode:{episode.id}",
                      _codes(rng, hit.codes or spec.codes, len(event_days)), hit.label)
            found = (spec.domain, spec.target_iso3)
        domains += [found[0]] if found[0] not in domains else []
        targets += [found[1]] if found[1] and found[1] not in targets else []
    return {"id": episode.id, "title": episode.title, "start_day": first,
            "end_day": min(first + episode.duration_days - 1, n_days - 1),
            "targets_iso3": targets, "domains": domains, "pla_days": pla_days,
            "hits": [{"series": h.series, "offset_days": h.offset, "n_days": h.n_days,
                      "per_day": h.per_day, **({"label": h.label} if h.label else {})}
                     for h in episode.hits]}


def _plant_campaigns(rng: np.random.Generator, draws: _Draws, plan: arts.ArticlePlan,
                     sorties: np.ndarray, ships: np.ndarray, n_days: int,
                     named: list[dict[str, Any]]) -> dict[str, Any]:
    """Lift each campaign target's hostile series on its campaign days and plant its
    coordinated episodes (see ``scenario_campaigns``)."""
    targets = tuple(CAMPAIGNS)
    reserved = [(e["start_day"], e["end_day"]) for e in named]
    schedule = camp.campaign_schedule(rng, n_days, targets, reserved)
    episodes = []
    for k, target in enumerate(targets):
        on = np.flatnonzero(schedule.active[:, k])
        for key in CAMPAIGNS[target]["lift"]:
            spec = _BY_KEY[key]
            codes = _PRESSURE if spec.domain == "diplomacy" else spec.codes
            extra = np.repeat(on, rng.poisson(spec.per_weekday * camp.LIFT, on.size))
            draws.add(spec, extra, f"campaign:{target}", _codes(rng, codes, extra.size))
        for number, day in enumerate(schedule.episode_days[target]):
            spec = EpisodeSpec(f"campaign-{target}-{number:02d}", f"Campaign episode against "
                               f"{target}", day / n_days, 3, CAMPAIGNS[target]["hits"])
            truth = _plant_episode(rng, draws, plan, sorties, ships, spec, n_days, first=day)
            truth["in_campaign"] = bool(schedule.active[day, k])
            episodes.append(truth)
    return {"targets": list(targets), "lift": camp.LIFT, "episode_rate": camp.EPISODE_RATE,
            "start_rate": camp.START_RATE, "end_rate": camp.END_RATE,
            "campaign_days": {t: int(schedule.active[:, k].sum())
                              for k, t in enumerate(targets)},
            "episodes": episodes}


def _campaign_ground_truth(truth: dict[str, Any], record_ids: dict, start: date
                           ) -> dict[str, Any]:
    """Campaign episodes with dates and their record ids (as the named episodes have)."""
    for episode in truth["episodes"]:
        episode["start"] = (start + timedelta(days=episode.pop("start_day"))).isoformat()
        episode["end"] = (start + timedelta(days=episode.pop("end_day"))).isoformat()
        episode.pop("pla_days")
        origin = f"episode:{episode['id']}"
        episode["records"] = {source: sorted(str(i) for i, o in zip(ids, origins)
                                             if o == origin)
                              for source, (ids, origins) in record_ids.items()}
        episode["records"] = {k: v for k, v in episode["records"].items() if v}
    return truth


def _ground_truth(record_ids: dict, article_ids: list[str], plan: arts.ArticlePlan,
                  pla_dates: list[str], episodes: list[dict], couplings: list[dict],
                  narratives: list[dict], start: date, n_days: int, seed: int) -> dict[str, Any]:
    """The planted structure with the record ids behind each part, days turned into dates."""
    def by_origin(origin: str) -> dict[str, list[str]]:
        found = {source: sorted(str(i) for i, o in zip(ids, origins) if o == origin)
                 for source, (ids, origins) in record_ids.items()}
        return {k: v for k, v in found.items() if v}

    def iso(day: int) -> str:
        return (start + timedelta(days=day)).isoformat()

    for episode in episodes:
        episode["start"] = iso(episode.pop("start_day"))
        episode["end"] = iso(episode.pop("end_day"))
        episode["records"] = by_origin(f"episode:{episode['id']}")
        prefix = f"episode:{episode['id']}:"
        planted_articles = sorted(a for a, k in zip(article_ids, plan.kind) if k.startswith(prefix))
        if planted_articles:
            episode["records"]["articles"] = planted_articles
        pla_days = episode.pop("pla_days")
        if pla_days:
            episode["records"]["pla_sorties"] = [pla_dates[d] for d in pla_days]
    for coupling in couplings:
        coupling["b_records"] = by_origin(f"coupling:{coupling['id']}")
    for story in narratives:
        for role in ("leader", "follower"):
            story[f"{role}_start"] = iso(story.pop(f"{role}_start_day"))
        kind = f"narrative:{story['id']}"
        tagged = [(a, lead) for a, k, lead in zip(article_ids, plan.kind, plan.leader) if k == kind]
        story["leader_articles"] = sorted(a for a, lead in tagged if lead)
        story["follower_articles"] = sorted(a for a, lead in tagged if not lead)
    return {"seed": seed, "start": start.isoformat(), "days": n_days,
            "parameters": {"ar_phi": AR_PHI, "ar_sigma": AR_SIGMA, "gamma_shape": GAMMA_SHAPE,
                           "model": "log-rate = log(base) + weekly + annual sinusoid + trend + "
                                    "AR(1); counts gamma-Poisson"},
            "end": iso(n_days - 1), "episodes": episodes, "couplings": couplings,
            "narratives": narratives,
            "independent_pairs": [[_BY_KEY[a].selector(), _BY_KEY[b].selector()]
                                  for a, b in INDEPENDENT_PAIRS],
            "series": [{"key": s.key, **s.selector(), "per_weekday": s.per_weekday,
                        "weekend_factor": s.weekend, "season_amplitude": s.season,
                        "trend_per_year": s.trend} for s in SERIES],
            "countries_iso3": sorted(PLACES)}
