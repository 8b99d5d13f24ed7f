"""Outlet groups by web domain: outlets written as domains or URLs, and URL-only article files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridwatch.errors import InputError
from hybridwatch.model.outlet_groups import load_outlet_groups, outlet_group
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file


def test_domains_and_urls_match_their_group():
    groups = load_outlet_groups()
    assert outlet_group("tass.ru", groups) == "ru_state"
    assert outlet_group("https://russian.rt.com/world/news/1", groups) == "ru_state"  # subdomain
    assert outlet_group("www.xinhuanet.com", groups) == "cn_state"
    assert outlet_group("english.news.cn", groups) == "cn_state"
    assert outlet_group("bbc.co.uk", groups) == "control"
    assert outlet_group("co.uk", groups) is None          # a public suffix is nobody's domain
    assert outlet_group("notrt.com", groups) is None      # suffix match is by whole labels
    assert outlet_group("Unknown Gazette", groups,
                        url="https://www.globaltimes.cn/page/1.shtml") == "cn_state"
    assert outlet_group("RT", groups, url="https://www.bbc.com/x") == "ru_state"  # name first


def test_user_domains_override_and_bad_domains_are_named(tmp_path: Path):
    user = tmp_path / "groups.toml"
    user.write_text('[control]\noutlets = []\ndomains = ["tass.ru"]\n', encoding="utf-8")
    assert outlet_group("https://tass.ru/x", load_outlet_groups(user)) == "control"
    user.write_text('[control]\noutlets = []\ndomains = ["not a domain"]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"\[control\] `domains`"):
        load_outlet_groups(user)


def test_url_only_articles_are_named_after_their_domain_and_grouped(tmp_path: Path):
    rows = [{"url": "https://www.tass.ru/politika/1", "published_at": "2024-03-01T10:00:00Z",
             "title": "Москва ответила на санкции"},
            {"url": "https://english.news.cn/2024/1.htm", "published_at": "2024-03-01T11:00:00Z",
             "title": "China calls for dialogue"},
            {"published_at": "2024-03-01T12:00:00Z", "title": "neither outlet nor URL"}]
    path = tmp_path / "urls.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    with EventStore(tmp_path / "s.duckdb") as store:
        ingest_file(store, path, format="articles-jsonl")
        outlets = [r[0] for r in store._con.execute(
            "SELECT outlet FROM articles ORDER BY published_at").fetchall()]
        rejected = store._con.execute("SELECT line, field FROM quarantine").fetchall()
    assert outlets == ["tass.ru", "english.news.cn"]
    assert rejected == [(3, "outlet")]
    groups = load_outlet_groups()
    assert [outlet_group(o, groups) for o in outlets] == ["ru_state", "cn_state"]
