"""API and dashboard latency on a store of 10 million events, against DuckDB without HTTP.

    python benchmarks/bench_api.py [--events 10000000] [--clients 20] [--seconds 20]

1. Builds the store straight in DuckDB SQL (``range`` + hashes: three years of events with
   skewed domains, targets and actors, 4 % TLP-marked) unless it exists already.
2. Baseline: the same queries (``hybridwatch.store.event_views``) serially on DuckDB, no HTTP.
3. Starts ``hybridwatch serve`` in a subprocess on loopback and drives it with N concurrent
   closed-loop clients (asyncio + httpx, no think time) for a fixed time, over a mix of
   filtered event pages (first pages and keyset follow-ups) and series queries, drawn from a
   seeded space of dashboard-like filters. Latencies are split into the first request of a URL
   (cold: nothing cached) and repeats.
4. Times the dashboard's first load in headless Chromium (until every panel has rendered).

Results go to docs/benchmarks/api.md. The load generator shares the machine's cores with the
server; the numbers are an upper bound on what a separate client machine would see.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
DOMAINS = ("infrastructure", "cyber", "space", "economy", "military", "culture", "social",
           "public_administration", "legal", "intelligence", "diplomacy", "political",
           "information")
TARGETS = ("DEU", "POL", "TWN", "USA", "UKR", "LTU", "LVA", "EST", "FRA", "GBR", "JPN", "KOR",
           "CHN", "RUS", "ITA", "ESP", "NLD", "SWE", "FIN", "NOR", "CZE", "ROU", "MDA", "GEO",
           "ARM", "AZE", "KAZ", "IND", "AUS", "CAN")
ACTORS = ("RUS", "CHN", "USA", "IRN", "PRK", "DEU", "FRA", "GBR", "UKR", "POL", "TUR", "IND",
          "BLR", "SRB", "HUN", "ISR")


def build_store(path: Path, n_events: int) -> float:
    """Write ``n_events`` synthetic events into a new store with one SQL statement; seconds."""
    from hybridwatch.store import EventStore

    started = time.perf_counter()
    span_us = 1096 * 86_400_000_000
    # hash(i * k) gives independent-looking pseudo-random columns; the skew (least(..//33))
    # and the 4 % TLP marking are what real mixed feeds look like
    sql = f"""
    INSERT INTO events
    SELECT md5('bench:' || i), (['gdelt','gdelt','gdelt','gdelt','acled','stix','misp',
             'euvsdisinfo'])[1 + (hash(i*7) % 8)::INT],
      i::VARCHAR, TIMESTAMP '2022-01-01' + to_microseconds((i * ({span_us} // {n_events}))::BIGINT),
      'second', NULL, NULL, NULL,
      {_list(ACTORS)}[1 + (hash(i*11) % {len(ACTORS)})::INT],
      [{_list(TARGETS)}[1 + least((hash(i*13) % 1000) // 33, 29)::INT]],
      NULL, NULL, {_list(TARGETS[:10])}[1 + (hash(i*17) % 10)::INT], NULL, NULL,
      {_list(DOMAINS)}[1 + least((hash(i*19) % 100) // 7, 12)::INT], NULL,
      (hash(i*23) % 200)::DOUBLE / 10.0 - 10.0, 'goldstein', 'synthetic event ' || i,
      'bench', NULL,
      CASE WHEN hash(i*29) % 1000 < 960 THEN NULL
           ELSE (['green','amber','amber+strict','red'])[1 + (hash(i*31) % 4)::INT] END,
      NULL, 0
    FROM range({n_events}) t(i)"""
    with EventStore(path, memory_limit="4GB") as store:
        store._con.execute(sql)
    return time.perf_counter() - started


def _list(values) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def request_mix(n: int, seed: int) -> list[tuple[str, dict[str, str]]]:
    """``n`` (kind, params) pairs: kind is "page" or "series"."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        params: dict[str, str] = {}
        if rng.random() < 0.7:
            params["domain"] = rng.choice(DOMAINS)
        if rng.random() < 0.7:
            params["target"] = rng.choice(TARGETS[:10])
        if rng.random() < 0.25:
            params["actor"] = rng.choice(ACTORS[:5])
        window = rng.choice([None, 31, 92, 365])
        if window:
            start = 0 if window == 365 else rng.randrange(0, 1096 - window)
            first = time.gmtime(time.mktime((2022, 1, 1, 0, 0, 0, 0, 0, 0)) + start * 86400)
            last = time.gmtime(time.mktime((2022, 1, 1, 0, 0, 0, 0, 0, 0)) +
                               (start + window) * 86400)
            params["since"] = time.strftime("%Y-%m-%d", first)
            params["until"] = time.strftime("%Y-%m-%d", last)
        if rng.random() < 0.5:
            out.append(("page", {**params, "limit": "100",
                                 **({"order": "desc"} if rng.random() < 0.3 else {})}))
        else:
            freq = "day" if window and window <= 92 else rng.choice(["week", "month"])
            out.append(("series", {**params, "freq": freq,
                                   **({"by": "domain"} if "domain" not in params and
                                      rng.random() < 0.5 else {})}))
    return out


def dashboard_traffic(space, n: int, seed: int, exponent: float = 1.1):
    """``n`` requests drawn from ``space`` with Zipf popularity: a few views (the default
    dashboard, popular targets) are asked for often, most rarely — how analysts' dashboards
    hit an API."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) ** exponent for rank in range(len(space))]
    return rng.choices(space, weights=weights, k=n)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def direct_baseline(path: Path, mix, n: int, threads: int = 1) -> dict[str, Any]:
    """The same queries on DuckDB in this process, no HTTP, no cache: serially, or from
    ``threads`` threads at once (one cursor each), like the server's request threads."""
    import threading

    from hybridwatch.store import EventStore
    from hybridwatch.store.event_filter import EventFilter
    from hybridwatch.store.event_rollups import build_rollups
    from hybridwatch.store.event_views import count_events, event_page, series

    times: dict[str, list[float]] = {"page": [], "series": []}

    def run(items) -> None:
        cursor = store.cursor_store()
        for kind, params in items:
            q = EventFilter.parse(**{k: v for k, v in params.items()
                                    if k in ("domain", "target", "actor", "since", "until")})
            started = time.perf_counter()
            if kind == "page":
                event_page(cursor, q, "amber", limit=100,
                           descending=params.get("order") == "desc")
                count_events(cursor, q, "amber", rollup=True)  # a first page's total
            else:
                series(cursor, q, "amber", freq=params["freq"], by=params.get("by"),
                       max_groups=12, rollup=True)
            times[kind].append((time.perf_counter() - started) * 1000)
        cursor.close()

    with EventStore(path, memory_limit="1GB") as store:
        build_rollups(store)
        items = mix[:n]
        workers = [threading.Thread(target=run, args=(items[i::threads],))
                   for i in range(threads)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        wall = time.perf_counter() - started
    return {**times, "qps": len(items) / wall}


async def load(base: str, token: str, mix, clients: int, seconds: float) -> dict:
    import httpx

    results: dict[str, list[float]] = {"page": [], "page_next": [], "series": [],
                                       "cold": [], "repeat": []}
    seen: set[str] = set()
    errors: list[str] = []
    deadline = time.perf_counter() + seconds
    position = 0

    async def client(worker: int) -> None:
        nonlocal position
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            while time.perf_counter() < deadline:
                kind, params = mix[position % len(mix)]
                position += 1
                path = "/api/events" if kind == "page" else "/api/series"
                url = f"{path}?{urlencode(params)}"
                cold = url not in seen
                seen.add(url)
                started = time.perf_counter()
                answer = await http.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code != 200:
                    errors.append(f"{answer.status_code} {url}")
                    continue
                results[kind].append(elapsed)
                results["cold" if cold else "repeat"].append(elapsed)
                cursor = answer.json().get("next_cursor") if kind == "page" else None
                if cursor and worker % 2 == 0:  # half the readers turn the page once
                    started = time.perf_counter()
                    nxt = await http.get(f"{url}&{urlencode({'cursor': cursor})}")
                    if nxt.status_code == 200:
                        results["page_next"].append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    wall = time.perf_counter() - started
    total = sum(len(results[k]) for k in ("page", "page_next", "series"))
    return {"latencies": results, "errors": errors, "requests": total,
            "throughput_rps": total / wall}


WRK_SCRIPT = """
local urls = {%(urls)s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", urls[((i - 1) %% #urls) + 1], {["Authorization"] = "Bearer %(token)s"})
end
done = function(s, lat, req)
  io.write(string.format("RESULT %%d %%d %%d %%.3f %%.3f %%.3f %%.3f\\n", s.requests, s.duration,
    s.errors.status + s.errors.connect + s.errors.read + s.errors.timeout,
    lat:percentile(50) / 1000, lat:percentile(95) / 1000, lat:percentile(99) / 1000,
    lat.max / 1000))
end
"""


def wrk_load(base: str, token: str, urls: list[str], clients: int, seconds: float) -> dict:
    """``clients`` closed-loop connections from wrk (C, one thread: little CPU taken from the
    server) cycling through ``urls``; latency percentiles in ms."""
    import tempfile

    body = WRK_SCRIPT % {"urls": ", ".join(json.dumps(u) for u in urls), "token": token}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(body)
    out = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{int(seconds)}s", "--timeout", "10s",
                          "-s", script.name, base], capture_output=True, text=True, check=True)
    os.unlink(script.name)
    line = next(row for row in out.stdout.splitlines() if row.startswith("RESULT"))
    n, duration_us, errors, p50, p95, p99, worst = line.split()[1:]
    return {"n": int(n), "rps": int(n) / (int(duration_us) / 1e6), "errors": int(errors),
            "p50": float(p50), "p95": float(p95), "p99": float(p99), "max": float(worst)}


def urls_of(mix, kind: str) -> list[str]:
    path = "/api/events" if kind == "page" else "/api/series"
    return [f"{path}?{urlencode(params)}" for k, params in mix if k == kind]


def next_page_urls(base: str, token: str, urls: list[str], n: int) -> list[str]:
    """The keyset next page of the first ``n`` distinct page URLs (count=false, as the
    dashboard asks for them)."""
    import httpx

    out = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as http:
        for url in list(dict.fromkeys(urls))[:n]:
            cursor = http.get(url).json().get("next_cursor")
            if cursor:
                out.append(f"{url}&{urlencode({'cursor': cursor, 'count': 'false'})}")
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(db: Path, port: int, extra: list[str]) -> subprocess.Popen:
    import httpx

    exe = Path(sys.executable).with_name("hybridwatch")
    proc = subprocess.Popen([str(exe), "serve", "--db", str(db), "--port", str(port), "-q",
                             *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def dashboard_first_load(base: str, token: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        out = {}
        for label in ("cold", "warm"):
            # signs in through the form (no token in any URL since the session cookie);
            # bypass_csp only because Playwright's wait_for_function polls with eval, which the
            # dashboard's CSP forbids (the policy is tested in tests/web)
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
            started = time.perf_counter()
            page.goto(base)
            page.wait_for_selector("#message:not([hidden])")
            page.fill("#token-input", token)
            page.click("#token-form button[type=submit]")
            page.wait_for_function("window.hwReady === true", timeout=60_000)
            out[label] = (time.perf_counter() - started) * 1000
            page.close()
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--baseline-queries", type=int, default=200)
    parser.add_argument("--space", type=int, default=600,
                        help="distinct views in the dashboard traffic")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks" / "api.md")
    args = parser.parse_args()

    from hybridwatch.store import EventStore
    from hybridwatch.store.access_store import create_token

    db = args.store or REPO / "benchmarks" / "out" / f"api-{args.events}.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    build_seconds = None
    if not db.exists():
        print(f"building {args.events:,} events in {db} …", file=sys.stderr)
        build_seconds = build_store(db, args.events)
        print(f"  {build_seconds:.1f} s", file=sys.stderr)
    with EventStore(db) as store:
        n_events = store.count_events()
        token = create_token(store, role="viewer", name="bench").token
    space = request_mix(args.space, seed=1)            # distinct dashboard views
    traffic = dashboard_traffic(space, 20_000, seed=2)  # who asks for which, Zipf
    distinct = request_mix(4000, seed=3)               # every request a new view

    print("baseline: the same queries on DuckDB without HTTP …", file=sys.stderr)
    direct = {"serial": direct_baseline(db, distinct, args.baseline_queries),
              "concurrent": direct_baseline(db, distinct, args.baseline_queries,
                                            threads=args.clients)}

    runs = {}
    load_before = os.getloadavg()
    use_wrk = shutil.which("wrk") is not None
    phases = (("dashboard traffic", traffic), ("distinct views", distinct))
    for label, mix in phases:
        port = free_port()
        print(f"server ({label}) on :{port} …", file=sys.stderr)
        started = time.perf_counter()
        server = start_server(db, port, [])
        startup = time.perf_counter() - started
        base = f"http://127.0.0.1:{port}"
        run: dict[str, Any] = {"startup_s": startup}
        try:
            if not args.no_browser and label == "dashboard traffic":
                run["browser_fresh"] = dashboard_first_load(base, token)["cold"]
            run["single"] = asyncio.run(load(base, token, mix[::-1], 1, min(args.seconds, 10)))
            if use_wrk:
                pages, series_urls = urls_of(mix, "page"), urls_of(mix, "series")
                run["wrk"] = {
                    "event pages": wrk_load(base, token, pages, args.clients, args.seconds),
                    "series": wrk_load(base, token, series_urls, args.clients, args.seconds)}
                following = next_page_urls(base, token, urls_of(distinct[2000:], "page"), 300)
                run["wrk"]["event pages (keyset next)"] = wrk_load(
                    base, token, following, args.clients, min(args.seconds, 10))
            run["loaded"] = asyncio.run(load(base, token, mix, args.clients, args.seconds))
            if not args.no_browser and label == "dashboard traffic":
                run["browser_after"] = dashboard_first_load(base, token)["cold"]
        finally:
            server.terminate()
            server.wait(timeout=30)
        runs[label] = run
    direct["load_average"] = (load_before[0], os.getloadavg()[0])
    write_report(args, db, n_events, build_seconds, direct, runs)


def summary(values: list[float]) -> str:
    if not values:
        return "– | – | – | 0"
    return f"{pct(values, 50):.1f} | {pct(values, 95):.1f} | {pct(values, 99):.1f} | {len(values)}"


def write_report(args, db, n_events, build_seconds, direct, runs) -> None:
    serial, concurrent = direct["serial"], direct["concurrent"]
    lines = ["# API and dashboard benchmark", "",
             f"`python benchmarks/bench_api.py --events {args.events} --clients {args.clients} "
             f"--seconds {args.seconds:g}` on {os.cpu_count()} cores, shared with other jobs "
             "(the load generators — wrk, and an asyncio httpx client — run on the same "
             "cores). Store: "
             f"{n_events:,} synthetic events over three years (13 domains, 30 targets, 16 actors, "
             "4 % TLP-marked)"
             + (f", built with one DuckDB SQL statement in {build_seconds:.0f} s"
                if build_seconds else "") + ".", "",
             f"Machine load average (1 min) {direct['load_average'][0]:.1f} before, "
             f"{direct['load_average'][1]:.1f} after: other jobs were using the cores.", "",
             "Requests: filtered event pages (first pages, and half of them followed by the "
             "keyset next page) and series (day/week/month, some split by domain) with random "
             "domain, target, actor and period filters, as a viewer (TLP filtering on).", "",
             "## Baseline: the same queries on DuckDB, no HTTP, no cache", "",
             "| | p50 ms | p95 ms | p99 ms | n |", "|---|---|---|---|---|",
             f"| serial: event page | {summary(serial['page'])} |",
             f"| serial: series | {summary(serial['series'])} |",
             f"| {args.clients} threads: event page | {summary(concurrent['page'])} |",
             f"| {args.clients} threads: series | {summary(concurrent['series'])} |", "",
             f"Throughput: {serial['qps']:.0f} queries/s serially, {concurrent['qps']:.0f} "
             f"queries/s from {args.clients} threads.", ""]
    for label, run in runs.items():
        loaded, single = run["loaded"], run["single"]
        lat = loaded["latencies"]
        lines += [f"## API: {label} (server start incl. the rollup: {run['startup_s']:.1f} s)", ""]
        if "wrk" in run:
            lines += [f"wrk, {args.clients} connections, closed loop (no think time), "
                      f"{args.seconds:g} s each:", "",
                      "| requests | p50 ms | p95 ms | p99 ms | max ms | requests/s | errors |",
                      "|---|---|---|---|---|---|---|"]
            for what, r in run["wrk"].items():
                lines.append(f"| {what} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
                             f"{r['max']:.0f} | {r['rps']:.0f} | {r['errors']} |")
            lines.append("")
        lines += [f"Python asyncio httpx client ({args.clients} clients, same cores as the "
                  "server; also follows next_cursor):", "",
                  "| requests | p50 ms | p95 ms | p99 ms | n |", "|---|---|---|---|---|",
                  f"| 1 client: event pages | {summary(single['latencies']['page'])} |",
                  f"| 1 client: series | {summary(single['latencies']['series'])} |",
                  f"| {args.clients} clients: event pages (first) | {summary(lat['page'])} |",
                  f"| {args.clients} clients: event pages (next, keyset) | "
                  f"{summary(lat['page_next'])} |",
                  f"| {args.clients} clients: series | {summary(lat['series'])} |",
                  f"| {args.clients} clients: first request of a view | {summary(lat['cold'])} |",
                  f"| {args.clients} clients: repeated view | {summary(lat['repeat'])} |", "",
                  f"{loaded['throughput_rps']:.0f} requests/s; errors: {len(loaded['errors'])}.",
                  ""]
        ratios = []
        if "wrk" in run:
            ratios.append(f"p95 under {args.clients} connections (wrk) / DuckDB p95 at "
                          f"{args.clients} threads: event pages "
                          f"{run['wrk']['event pages']['p95'] / pct(concurrent['page'], 95):.2f}, "
                          f"series {run['wrk']['series']['p95'] / pct(concurrent['series'], 95):.2f}")
        ratios.append(f"one client's p50 / serial DuckDB p50: event pages "
                      f"{pct(single['latencies']['page'], 50) / pct(serial['page'], 50):.2f}, "
                      f"series {pct(single['latencies']['series'], 50) / pct(serial['series'], 50):.2f}")
        lines += ["Ratios to the baseline: " + "; ".join(ratios) + ".", ""]
        if "browser_fresh" in run:
            lines += ["Dashboard first load in headless Chromium (navigation until every panel "
                      f"has rendered, `window.hwReady`): {run['browser_fresh']:.0f} ms on the "
                      f"fresh server, {run['browser_after']:.0f} ms after the load tests.", ""]
    traffic = runs.get("dashboard traffic", {})
    if "wrk" in traffic:
        w = traffic["wrk"]
        verdict = [f"event pages p95 {w['event pages']['p95']:.0f} ms",
                   f"series p95 {w['series']['p95']:.0f} ms"]
        if "browser_fresh" in traffic:
            verdict.append(f"dashboard first load {traffic['browser_fresh']:.0f} ms")
        lines += ["## Against the targets", "",
                  f"Dashboard traffic with {args.clients} concurrent clients (target: p95 under "
                  "200 ms; first load under 2 s): " + ", ".join(verdict) + "."]
        cold = runs.get("distinct views", {}).get("wrk")
        if cold:
            lines += ["", "Every view new (target: p95 under 200 ms): event pages p95 "
                      f"{cold['event pages']['p95']:.0f} ms, series p95 "
                      f"{cold['series']['p95']:.0f} ms; DuckDB alone at {args.clients} threads, "
                      f"no HTTP: {pct(concurrent['page'], 95):.0f} / "
                      f"{pct(concurrent['series'], 95):.0f} ms."]
        lines.append("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    (REPO / "benchmarks" / "out").mkdir(exist_ok=True)
    (REPO / "benchmarks" / "out" / "api.json").write_text(json.dumps(
        {"direct": direct, "runs": {k: {**v, "loaded": {**v["loaded"], "errors":
                                                        v["loaded"]["errors"][:20]}}
                                    for k, v in runs.items()}}, default=str))


if __name__ == "__main__":
    main()
