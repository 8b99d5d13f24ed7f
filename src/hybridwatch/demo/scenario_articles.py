"""The demo scenario's news articles: background output per outlet, planted narratives, episodes.

Articles are drawn as (outlet, day, kind) rows first, then rendered to JSON lines in one pass,
so the file is sorted by publication time and ids are stable for a seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from hybridwatch.demo.scenario_texts import (
    BACKGROUND_EN,
    BACKGROUND_NATIVE,
    BODY_EN,
    EPISODE_ARTICLES,
    NARRATIVES,
    OUTLETS,
    Narrative,
    fill_choices,
)

_OUTLET_NAMES = tuple(OUTLETS)


@dataclass
class ArticlePlan:
    """Articles to write: parallel lists, one entry an article; ``kind`` is "background",
    "narrative:<id>" or "episode:<id>:<key>"."""

    outlet: list[str] = field(default_factory=list)
    day: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    leader: list[bool] = field(default_factory=list)

    def add(self, outlets: list[str], days: list[int], kind: str, leader: bool = True) -> None:
        self.outlet += outlets
        self.day += days
        self.kind += [kind] * len(days)
        self.leader += [leader] * len(days)


def plan_background(plan: ArticlePlan, rng: np.random.Generator, n_days: int,
                    weekday: np.ndarray, modulation: np.ndarray) -> None:
    """Each outlet's daily output: its rate × weekly cycle (60% on weekends) × ``modulation``
    (a shared seasonal/bursty factor), gamma-Poisson noise."""
    weekly = np.where(weekday >= 5, 0.6, 1.0)
    for name in _OUTLET_NAMES:
        mean = OUTLETS[name][5] * weekly * modulation
        counts = rng.poisson(rng.gamma(4.0, mean / 4.0))
        plan.add([name] * int(counts.sum()), np.repeat(np.arange(n_days), counts).tolist(),
                 "background")


def _group_outlets(group: str) -> list[str]:
    return [name for name in _OUTLET_NAMES if OUTLETS[name][0] == group]


def _spread(plan: ArticlePlan, rng: np.random.Generator, group: str, first_day: int,
            n_days: int, per_day: float, total_days: int, kind: str, leader: bool) -> None:
    outlets = _group_outlets(group)
    for day in range(first_day, min(first_day + n_days, total_days)):
        count = max(int(round(per_day / 2)), int(rng.poisson(per_day)))
        chosen = rng.integers(0, len(outlets), count)
        plan.add([outlets[c] for c in chosen], [day] * count, kind, leader)


def plan_narratives(plan: ArticlePlan, rng: np.random.Generator, n_days: int) -> list[dict]:
    """Plant every narrative: leader group from its start, follower ``lag_days`` later."""
    truth = []
    for story in NARRATIVES:
        first = int(story.start_fraction * n_days)
        _spread(plan, rng, story.leader, first, story.duration_days, story.leader_per_day,
                n_days, f"narrative:{story.id}", True)
        _spread(plan, rng, story.follower, first + story.lag_days, story.duration_days,
                story.follower_per_day, n_days, f"narrative:{story.id}", False)
        truth.append({"id": story.id, "leader": story.leader, "follower": story.follower,
                      "lag_days": story.lag_days, "leader_start_day": first,
                      "follower_start_day": first + story.lag_days,
                      "duration_days": story.duration_days,
                      "keywords": {k: list(v) for k, v in story.keywords.items()}})
    return truth


def plan_episode_articles(plan: ArticlePlan, rng: np.random.Generator, episode_id: str,
                          key: str, first_day: int, n_days: int, per_day: float,
                          total_days: int) -> None:
    group = EPISODE_ARTICLES[key][0]
    _spread(plan, rng, group, first_day, n_days, per_day, total_days,
            f"episode:{episode_id}:{key}", True)


def _title(kind: str, language: str, group: str, rng: np.random.Generator) -> str:
    if kind.startswith("narrative:"):
        story: Narrative = next(s for s in NARRATIVES if s.id == kind.split(":", 1)[1])
        options = story.titles.get(language, story.titles["en"])
    elif kind.startswith("episode:"):
        _, english, native = EPISODE_ARTICLES[kind.split(":")[2]]
        options = native.get(language, english)
    elif language == "en":
        template = BACKGROUND_EN[group][rng.integers(0, len(BACKGROUND_EN[group]))]
        picks = {slot: words[rng.integers(0, len(words))] for slot, words in fill_choices().items()}
        return template.format(**picks)
    else:
        options = BACKGROUND_NATIVE[language]
    return options[rng.integers(0, len(options))]


def write_articles(path: Path, plan: ArticlePlan, start: date,
                   rng: np.random.Generator) -> list[str]:
    """Render ``plan`` as JSON lines sorted by time; returns the article ids aligned with it."""
    n = len(plan.day)
    minutes = rng.integers(5 * 60, 21 * 60, n)      # UTC publication time within the day
    native = rng.random(n)
    body_picks = rng.integers(0, len(BODY_EN), (n, 2))
    moments = [datetime(start.year, start.month, start.day, tzinfo=UTC)
               + timedelta(days=plan.day[i], minutes=int(minutes[i])) for i in range(n)]
    order = sorted(range(n), key=lambda i: (moments[i], plan.outlet[i], i))
    ids = [""] * n
    lines = []
    for rank, i in enumerate(order):
        outlet = plan.outlet[i]
        group, offset, host, native_share, native_language, _ = OUTLETS[outlet]
        language = native_language if native[i] < native_share else "en"
        title = _title(plan.kind[i], language, group, rng)
        body = " ".join(BODY_EN[j] for j in body_picks[i]) if language == "en" else title
        if language == "en" and plan.kind[i] != "background":
            body = f"{title}. {body}"  # planted stories repeat their key phrases in the text
        local = moments[i].astimezone(timezone(timedelta(hours=offset)))
        slug = host.split(".")[0]
        ids[i] = f"demo-{slug}-{rank + 1:06d}"
        record = {"id": ids[i], "outlet": outlet, "published_at": local.isoformat(),
                  "title": title, "text": body, "language": language,
                  "url": f"https://{host}/{local:%Y/%m/%d}/{ids[i]}", "outlet_group": group}
        lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids
