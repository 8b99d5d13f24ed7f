/* hybridwatch dashboard: signs in once (the token is exchanged for an HttpOnly session cookie,
   never kept by the page nor put in a URL), asks the API with that cookie and renders the
   panels. All text goes through textContent (event titles come from open sources). When every
   panel has rendered, window.hwReady becomes true and window.hwRenders counts the renders. */
"use strict";
(function () {
  const C = window.HWCharts;
  const state = { me: null, overview: null, geo: null, filters: {} };
  window.hwReady = false;
  window.hwRenders = 0;

  // ---- small helpers ----------------------------------------------------------------------
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
  }
  // only http(s) links are rendered as links: a source_url of "javascript:…" stays text
  function safeUrl(text) {
    try {
      const url = new URL(text);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }
  const $ = (sel) => document.querySelector(sel);
  const body = (id) => document.querySelector(`#${id} .body`);
  const num = (v, d = 3) => (v === null || v === undefined || Number.isNaN(v)) ? "n/a" : Number(v).toPrecision(d);
  const pct = (v) => (v === null || v === undefined) ? "n/a" : Math.round(v * 100) + "%";
  function tlp(level) {
    const l = level || "clear";
    return h("span", { class: `tlp tlp-${l.replace("+", "-")}`, title: "Traffic Light Protocol" }, "TLP:" + l.toUpperCase());
  }
  function withheld(n, what) {
    return n ? h("p", { class: "withheld" }, `${n.toLocaleString()} ${what} above your clearance withheld.`) : null;
  }
  function showMessage(text) {
    const m = $("#message");
    m.hidden = !text;
    m.textContent = text || "";
  }
  function panelError(id, err) {
    const b = body(id);
    if (!b) { showMessage(String(err && err.message ? err.message : err)); return; }
    b.textContent = "";
    b.appendChild(h("p", { class: "muted" }, String(err && err.message ? err.message : err)));
  }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path, params, post) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== null && v !== undefined && v !== "") query.set(k, v);
    const url = path + (query.toString() ? "?" + query : "");
    // the session cookie goes along by itself (same origin); POSTs also carry the Origin header
    const init = post === undefined ? { credentials: "same-origin" } : {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(post) };
    const res = await fetch(url, init);
    if (res.ok) return res.status === 204 ? null : res.json();
    let message = `${res.status} ${res.statusText}`;
    try { const e = await res.json(); if (e && e.error) message = e.error.message; } catch (_) { /* not JSON */ }
    if (res.status === 401) {
      showMessage("Not signed in: " + message + " Sign in with an API token above.");
    }
    throw new ApiError(res.status, message);
  }

  // ---- sign in / out ------------------------------------------------------------------------
  // A token in a link (/?token=…) is never used: the request has already written it into the
  // server's access log and the browser's history. It is removed from the address at once.
  function dropTokenFromAddress() {
    const url = new URL(window.location.href);
    if (!url.searchParams.has("token")) return false;
    url.searchParams.delete("token");
    window.history.replaceState(null, "", url.pathname + (url.search || "") + url.hash);
    return true;
  }
  $("#token-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const value = $("#token-input").value.trim();
    $("#token-input").value = "";
    if (!value) return;
    const res = await fetch("/api/session", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: value }) });
    let answer = null;
    try { answer = await res.json(); } catch (_) { /* not JSON */ }
    if (!res.ok) {
      const message = answer && answer.error ? answer.error.message : `${res.status} ${res.statusText}`;
      showMessage("The API refused the token: " + message + " Enter a valid token above.");
      return;
    }
    start();
  });
  $("#token-forget").addEventListener("click", async () => {
    await fetch("/api/session", { method: "DELETE", credentials: "same-origin" });
    state.me = null;
    $("#who").textContent = "";
    showMessage("Signed out. Sign in with an API token to continue.");
  });

  // ---- filters -----------------------------------------------------------------------------
  function readFilters() {
    const f = {
      since: $("#f-since").value || null,
      until: $("#f-until").value ? nextDay($("#f-until").value) : null, // the form's "To" is inclusive
      target: $("#f-target").value || null,
      domain: $("#f-domain").value || null,
      actor: $("#f-actor").value || null,
    };
    state.filters = f;
    return f;
  }
  function nextDay(iso) {
    const d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }
  function fillSelect(select, rows, label) {
    const current = select.value;
    select.textContent = "";
    select.appendChild(h("option", { value: "" }, "all"));
    for (const r of rows) if (r.key) select.appendChild(h("option", { value: r.key }, `${label ? label(r.key) : r.key} (${r.n_events.toLocaleString()})`));
    select.value = current;
  }
  async function loadFilterOptions() {
    const [targets, domains, actors] = await Promise.all([
      api("/api/counts", { by: "target_iso3", limit: 300 }),
      api("/api/counts", { by: "domain" }),
      api("/api/counts", { by: "actor_iso3", limit: 300 }),
    ]);
    fillSelect($("#f-target"), targets.counts);
    fillSelect($("#f-domain"), domains.counts);
    fillSelect($("#f-actor"), actors.counts);
  }
  $("#filters").addEventListener("submit", (ev) => { ev.preventDefault(); renderFiltered(); });
  $("#f-reset").addEventListener("click", () => {
    for (const id of ["f-until", "f-target", "f-domain", "f-actor"]) $("#" + id).value = "";
    $("#f-since").value = state.defaultSince || "";
    renderFiltered();
  });

  // ---- panels ------------------------------------------------------------------------------
  async function renderOverview() {
    const o = await api("/api/overview");
    state.overview = o;
    const b = body("overview");
    b.textContent = "";
    const kpi = (value, label) => h("div", { class: "kpi" }, h("b", {}, value), h("span", {}, label));
    b.appendChild(h("div", { class: "kpis" },
      kpi(o.events.count.toLocaleString(), `events ${o.events.first_day || ""} … ${o.events.last_day || ""}`),
      // one counter per finding kind (the server's registry says which and how to label it)
      ...(o.counters || []).map((c) => kpi(c.count === null ? "–" : String(c.count), c.label)),
      o.convergence ? kpi(num(o.convergence.index, 2), `convergence ${o.convergence.a || ""}–${o.convergence.b || ""}, ${o.convergence.period}`) : null));
    if (o.judgements.length) {
      b.appendChild(h("ul", { class: "judgements" }, o.judgements.map((j) => h("li", { "data-target": j.target },
        tlp(j.tlp), " ", (j.statement || "").startsWith(j.target) ? null : h("b", {}, j.target + ": "),
        j.statement || `${j.outcome}: ${j.phia_term} (${pct(j.probability)})`,
        h("span", { class: "muted" }, ` — ${j.phia_term || ""} ${pct(j.probability)} [${pct(j.low)}–${pct(j.high)}], ${j.confidence || ""} confidence`),
        reviewForm(j)))));
    } else {
      b.appendChild(h("p", { class: "muted" }, "No risk assessment has been computed on this store yet (hybridwatch assess)."));
    }
    if (o.caution) b.appendChild(h("p", { class: "caution" }, o.caution));
    if (o.backtest_verdict) b.appendChild(h("p", { class: "caution" }, "Backtest: " + o.backtest_verdict));
    const w = withheld(o.withheld, "events and findings");
    if (w) b.appendChild(w);
    if (o.runs && o.runs.length) {
      b.appendChild(h("p", { class: "muted", id: "runs-used" }, "Runs shown: " + o.runs.map((r) =>
        `${r.kind} ${r.run_id.slice(0, 12)}${r.pinned ? " (pinned)" : ""}`).join("; ")));
    }
  }

  // analysts (and admins) confirm, reject or annotate a judgement: POST /api/findings/ID/reviews
  function reviewForm(j) {
    if (!j.finding_id || !state.me || !["analyst", "admin"].includes(state.me.role)) return null;
    const verdict = h("select", { class: "review-verdict", "aria-label": "verdict" },
      ["confirmed", "needs-work", "rejected"].map((v) => h("option", { value: v }, v)));
    const note = h("input", { class: "review-note", type: "text", maxlength: "2000",
      placeholder: "note (required unless confirmed)", "aria-label": "review note" });
    const status = h("span", { class: "review-status muted" });
    const form = h("form", { class: "review", "data-finding": j.finding_id }, verdict, note,
      h("button", { type: "submit" }, "Review"), status);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const done = await api(`/api/findings/${encodeURIComponent(j.finding_id)}/reviews`, null,
          { verdict: verdict.value, note: note.value });
        status.textContent = ` Reviewed: ${done.verdict} by ${done.analyst}`;
        note.value = "";
      } catch (err) {
        status.textContent = " " + (err && err.message ? err.message : String(err));
      }
    });
    return form;
  }

  function seriesFreq(f) {
    const o = state.overview;
    const first = Date.parse((f.since || (o && o.events.first_day) || "2000-01-01") + "T00:00:00Z");
    const last = Date.parse((f.until || (o && o.events.last_day) || "2000-01-01") + "T00:00:00Z");
    const days = (last - first) / 864e5;
    return days <= 180 ? ["day", 1] : days <= 1500 ? ["week", 7] : ["month", 30.4];
  }

  async function renderTimeline(f) {
    const [freq, periodDays] = seriesFreq(f);
    const params = { ...f, freq, by: "domain", max_groups: 13 };
    const [s, eps] = await Promise.all([api("/api/series", params),
      api("/api/episodes", { target: f.target, domain: f.domain, since: f.since, until: f.until, limit: 500 })]);
    const periods = s.periods;
    const index = new Map();
    s.groups.forEach((g, i) => s.periods.forEach((p, j) => index.set(p + "|" + g, s.counts[i][j])));
    const groups = s.groups;
    const b = body("timeline");
    b.textContent = "";
    const chart = h("div", { class: "chart" });
    b.appendChild(chart);
    C.stackedBars(chart, { periods, groups, periodDays, value: (p, g) => index.get(p + "|" + g) || 0,
      onBrush: (a, b) => zoomTo(a, b),
      bands: eps.items.map((e) => ({ start: e.start, end: e.end, label: `episode ${e.start} … ${e.end}: ${e.targets.join(", ")} — ${e.domains.join(", ")}` })) });
    C.legend(b, groups);
    const total = s.counts.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
    b.appendChild(h("p", { class: "muted" }, `${total.toLocaleString()} events, per ${freq}`));
    const w = withheld(s.withheld, "events");
    if (w) b.appendChild(w);
  }

  // the timeline's brush: the dragged span becomes the From/To filter of every panel
  function zoomTo(startMs, endMs) {
    const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
    $("#f-since").value = iso(startMs);
    $("#f-until").value = iso(Math.max(startMs, endMs - 1));  // "To" is inclusive
    renderFiltered();
  }

  async function renderActorTargets(f) {
    const a = await api("/api/actor-targets", { ...f, limit: 200 });
    const b = body("actor-targets");
    b.textContent = "";
    const chart = h("div", { class: "chart", id: "actor-target-chart" });
    b.appendChild(chart);
    const drawn = C.actorTargets(chart, { links: a.links, onSelect: (l) => {
      for (const [id, v] of [["f-actor", l.actor], ["f-target", l.target], ["f-domain", l.domain]]) {
        const sel = $("#" + id);
        if (![...sel.options].some((o) => o.value === v)) sel.appendChild(h("option", { value: v }, v));
        sel.value = v;
      }
      renderFiltered();
    } });
    const domains = [...new Set(a.links.map((l) => l.domain))];
    C.legend(b, domains);
    b.appendChild(h("p", { class: "muted", id: "actor-target-note" },
      `${a.total_links.toLocaleString()} actor–target–domain links; the ${drawn.drawn} among the 12 most active actors and targets are drawn` +
      (a.total_links > a.links.length ? `, the largest ${a.links.length} listed` : "") + "."));
    b.appendChild(h("table", { id: "actor-target-table" },
      h("thead", {}, h("tr", {}, ["actor", "target", "domain", "events"].map((t) => h("th", {}, t)))),
      h("tbody", {}, a.links.slice(0, 15).map((l) => h("tr", {}, h("td", {}, l.actor), h("td", {}, l.target),
        h("td", {}, l.domain), h("td", {}, l.n_events.toLocaleString()))))));
    const w = withheld(a.withheld, "events");
    if (w) b.appendChild(w);
  }

  const utcMinute = (iso) => iso ? iso.slice(0, 16).replace("T", " ") + " UTC" : "";
  const DELIVERY_STATES = ["delivered", "failed", "withheld", "pending"];
  // where an alert's webhook delivery stands, as GET /api/alerts gives it (`delivery`); nothing
  // for an alert of a watch without a webhook. All text goes through h() (textContent).
  function deliveryBadge(d) {
    if (!d) return null;
    const state = DELIVERY_STATES.includes(d.state) ? d.state : "other";
    const attempts = `${d.attempts} attempt${d.attempts === 1 ? "" : "s"}`;
    const [text, title] = {
      delivered: [`delivered ${utcMinute(d.last_attempt_at)}`,
        `the webhook answered${d.http_status ? " HTTP " + d.http_status : ""} (${attempts})`],
      failed: [`failed: ${d.error || "no reason recorded"} (${attempts})`,
        `last attempt ${utcMinute(d.last_attempt_at)}; the next hybridwatch watch run retries it`],
      withheld: ["withheld: not sent",
        `never sent: ${d.error || "above the watch's clearance now"}`],
      pending: ["pending", "not sent yet: the next hybridwatch watch run sends it"],
      other: [String(d.state), ""],   // a state this page does not know: shown as given
    }[state];
    return h("span", { class: `delivery delivery-${state}`, "data-delivery": d.state, title: title || null },
      "webhook ", text);
  }

  async function renderAlerts() {
    const a = await api("/api/alerts", { limit: 50 });
    const b = body("alerts");
    b.textContent = "";
    if (!a.alerts.length) {
      b.appendChild(h("p", { class: "muted", id: "alerts-none" }, a.total || a.withheld ? "" :
        "No open alerts. Save a watch (hybridwatch watch add --kind episodes --target DEU) and run `hybridwatch watch run`."));
    }
    const canAck = state.me && ["analyst", "admin"].includes(state.me.role);
    if (a.alerts.length) {
      b.appendChild(h("ul", { class: "alerts", id: "alerts-list" }, a.alerts.map((al) => h("li", { "data-alert": String(al.alert_id) },
        tlp(al.tlp), h("b", {}, al.watch || `watch ${al.watch_id}`), h("span", {}, al.message),
        h("span", { class: "when" }, utcMinute(al.raised_at)),
        deliveryBadge(al.delivery),
        canAck ? h("button", { type: "button", class: "ack", onclick: async (ev) => {
          ev.currentTarget.disabled = true;
          try {
            await api(`/api/alerts/${al.alert_id}/acknowledge`, null, {});
            await renderAlerts();
          } catch (err) { showMessage(err && err.message ? err.message : String(err)); }
        } }, "Acknowledge") : null))));
    }
    b.appendChild(h("p", { class: "muted" }, `${a.total} open alert(s)` + (a.total > a.alerts.length ? `, newest ${a.alerts.length} shown` : "") + "."));
    const w = withheld(a.withheld, "alerts");
    if (w) b.appendChild(w);
  }

  async function renderMap(f) {
    if (!state.geo) state.geo = await api("/api/geo/world.json");
    const c = await api("/api/counts", { ...f, target: null, by: "target_iso3", limit: 300 });
    const counts = {};
    for (const r of c.counts) if (r.key) counts[r.key] = r.n_events;
    const b = body("map");
    b.textContent = "";
    const chart = h("div", { class: "chart" });
    b.appendChild(chart);
    C.worldMap(chart, { geo: state.geo, counts, selected: f.target, onSelect: (iso3) => {
      const sel = $("#f-target");
      if (![...sel.options].some((o) => o.value === iso3)) sel.appendChild(h("option", { value: iso3 }, iso3));
      sel.value = sel.value === iso3 ? "" : iso3;
      renderFiltered();
    } });
    const top = c.counts.filter((r) => r.key).slice(0, 5).map((r) => `${r.key} ${r.n_events.toLocaleString()}`).join(" · ");
    b.appendChild(h("p", { class: "muted" }, "Most targeted: " + (top || "none")));
  }

  async function renderEpisodes(f) {
    // each signal's where (target, else location country, else theatre) and the dimension used;
    // episodes stored before "where" existed show their targets
    const whereText = (ep) => (ep.signals || []).filter((s) => s.where_kind)
      .map((s) => `${s.domain}: ${s.where} (${s.where_kind})`).join("; ") || ep.targets.join(", ");
    const e = await api("/api/episodes", { target: f.target, domain: f.domain, since: f.since, until: f.until, limit: 200 });
    const b = body("episodes");
    b.textContent = "";
    if (!e.available) { b.appendChild(h("p", { class: "muted" }, e.message)); return; }
    if (!e.items.length) b.appendChild(h("p", { class: "muted" }, "No episodes match these filters."));
    else b.appendChild(h("table", { id: "episodes-table" },
      h("thead", {}, h("tr", {}, ["", "start", "end", "where (dimension)", "domains", "p-value", "events", "window"].map((t) => h("th", {}, t)))),
      h("tbody", {}, e.items.map((ep) => h("tr", { class: "clickable", "data-finding-id": ep.finding_id, onclick: (ev) => {
        document.querySelectorAll("#episodes-table tr.selected").forEach((r) => r.classList.remove("selected"));
        ev.currentTarget.classList.add("selected");
        renderEpisodeDetail(ep.finding_id, 0).catch((err) => showDetailError("episode-detail", err));
      } }, h("td", {}, tlp(ep.tlp)), h("td", {}, ep.start), h("td", {}, ep.end), h("td", {}, whereText(ep)),
        h("td", {}, ep.domains.join(", ")), h("td", {}, num(ep.p_value, 2)), h("td", {}, String(ep.n_events)),
        h("td", {}, `${ep.window_days ?? ""} d`))))));
    const w = withheld(e.withheld, "episodes");
    if (w) b.appendChild(w);
  }

  function showDetailError(id, err) {
    const d = $("#" + id);
    d.hidden = false;
    d.textContent = "";
    d.appendChild(h("p", { class: "muted" }, String(err.message || err)));
  }

  function eventsTable(events, id) {
    return h("table", { id }, h("thead", {}, h("tr", {}, ["", "when (UTC)", "domain", "actor", "target", "source", "title"].map((t) => h("th", {}, t)))),
      h("tbody", {}, events.map(eventRow)));
  }
  function eventRow(ev) {
    return h("tr", { "data-event-id": ev.event_id }, h("td", {}, tlp(ev.tlp)), h("td", {}, ev.occurred_at.slice(0, 16).replace("T", " ")),
      h("td", {}, ev.domain), h("td", {}, ev.actor_iso3 || ev.actor_name || ""), h("td", {}, (ev.target_iso3s || []).join(", ")),
      h("td", {}, ev.source_name ? `${ev.source} (${ev.source_name})` : ev.source),
      h("td", {}, safeUrl(ev.source_url) ? h("a", { href: safeUrl(ev.source_url), rel: "noopener noreferrer", target: "_blank" }, ev.display_title || ev.title || ev.source_url) : (ev.display_title || ev.title || ev.source_url || "")));
  }

  async function renderEpisodeDetail(id, offset) {
    const limit = 50;
    const ep = await api("/api/episodes/" + encodeURIComponent(id), { evidence_limit: limit, evidence_offset: offset });
    const d = $("#episode-detail");
    d.hidden = false;
    if (offset === 0) {
      d.textContent = "";
      d.appendChild(h("h3", {}, `Episode ${ep.start} … ${ep.end}: ${ep.targets.join(", ")}`, " ", tlp(ep.tlp)));
      d.appendChild(h("p", {}, `Domains ${ep.domains.join(", ")} jointly elevated; p = ${num(ep.p_value, 2)} (family-wise over the scan), ${ep.n_events} events.`));
      if (Array.isArray(ep.signals) && ep.signals.length) {
        d.appendChild(h("table", { class: "signals" }, h("thead", {}, h("tr", {}, ["signal", "detail"].map((t) => h("th", {}, t)))),
          h("tbody", {}, ep.signals.slice(0, 30).map((s) => h("tr", {}, h("td", {}, typeof s === "object" ? (s.domain || s.series || s.label || "") + (s.target ? " " + s.target : "") : String(s)),
            h("td", {}, typeof s === "object" ? Object.entries(s).filter(([k]) => !["domain", "target", "event_ids"].includes(k)).map(([k, v]) => `${k} ${typeof v === "number" ? num(v, 3) : JSON.stringify(v)}`).join(", ") : ""))))));
      }
      d.appendChild(h("h4", {}, `Evidence: ${ep.evidence.total.toLocaleString()} events`));
      // grouped: every visible evidence event counted by domain and actor, then the list paged
      const groups = ep.evidence.groups || [];
      if (groups.length) {
        d.appendChild(h("table", { id: "evidence-groups" },
          h("thead", {}, h("tr", {}, ["domain", "actor", "events", "first day", "last day"].map((t) => h("th", {}, t)))),
          h("tbody", {}, groups.slice(0, 20).map((g) => h("tr", {}, h("td", {}, g.domain), h("td", {}, g.actor || "(unknown)"),
            h("td", {}, g.n_events.toLocaleString()), h("td", {}, g.first_day), h("td", {}, g.last_day))))));
        if (groups.length > 20) d.appendChild(h("p", { class: "muted" }, `${groups.length - 20} smaller groups not listed.`));
      }
      d.appendChild(h("p", { class: "muted", id: "evidence-note" }, `Events oldest first, ${limit} at a time.`));
      const w = withheld(ep.evidence.withheld, "events");
      if (w) d.appendChild(w);
      d.appendChild(eventsTable(ep.evidence.events, "evidence-table"));
    } else {
      const tbody = d.querySelector("#evidence-table tbody");
      ep.evidence.events.forEach((ev) => tbody.appendChild(eventRow(ev)));
    }
    const old = d.querySelector("button.more");
    if (old) old.remove();
    if (offset + limit < ep.evidence.total) {
      d.appendChild(h("button", { class: "more", type: "button", onclick: () => renderEpisodeDetail(id, offset + limit).catch((err) => showDetailError("episode-detail", err)) }, "More evidence"));
    }
  }

  async function renderNarratives() {
    const n = await api("/api/narratives", { limit: 100 });
    const b = body("narratives");
    b.textContent = "";
    if (!n.available) { b.appendChild(h("p", { class: "muted" }, n.message)); return; }
    const a = n.a || "a", bb = n.b || "b";
    b.appendChild(h("p", { class: "muted" }, `Shared narratives of ${a} and ${bb}, the leader and its lead in days; q-values after FDR; "beyond control" = more in step than with the control outlets.`));
    const items = n.items.slice().sort((x, y) => (x.q_value ?? 1) - (y.q_value ?? 1));
    b.appendChild(h("table", { id: "narratives-table" },
      h("thead", {}, h("tr", {}, ["narrative", "label", "leader", "lag (days)", "q-value", "in step", "beyond control", "DISARM techniques"].map((t) => h("th", {}, t)))),
      h("tbody", {}, items.map((it) => h("tr", { class: "clickable", "data-narrative": it.narrative, onclick: (ev) => {
        document.querySelectorAll("#narratives-table tr.selected").forEach((r) => r.classList.remove("selected"));
        ev.currentTarget.classList.add("selected");
        renderNarrativeDetail(it, a, bb).catch((err) => showDetailError("narrative-detail", err));
      } }, h("td", {}, it.narrative), h("td", {}, it.label || ""), h("td", {}, it.lead_actor || "–"),
        h("td", {}, it.lag_days === null || it.lag_days === undefined ? "–" : String(it.lag_days)), h("td", {}, num(it.q_value, 2)),
        h("td", {}, it.significant ? "yes" : "no"), h("td", {}, it.beyond_control ? "yes" : "no"),
        h("td", { class: "techniques" }, techniquesCell(it)))))));
  }

  // the DISARM techniques tagged on a synchronised narrative when its run was recorded
  function techniquesCell(it) {
    if (!it.significant) return "";
    if (!Array.isArray(it.techniques)) return h("span", { class: "muted" }, "not tagged");
    if (!it.techniques.length) return h("span", { class: "muted" }, "none supported");
    return it.techniques.map((t, i) => h("span", { class: "technique", "data-technique": t.technique,
      title: `${t.name} (${t.tactic}); confidence ${num(t.confidence, 2)}; triggered by: ${t.evidence}` },
      i ? ", " : "", h("b", {}, t.technique), " " + t.name));
  }

  async function renderNarrativeDetail(item, a, b) {
    const s = await api(`/api/narratives/${encodeURIComponent(item.narrative)}/series`, { freq: "day" });
    const d = $("#narrative-detail");
    d.hidden = false;
    d.textContent = "";
    d.appendChild(h("h3", {}, `${item.narrative}: ${item.label || ""}`));
    d.appendChild(h("p", {}, item.lead_actor ? `${item.lead_actor} leads by ${item.lag_days} day(s); q = ${num(item.q_value, 2)}.` : "No clear leader."));
    if (Array.isArray(item.techniques) && item.techniques.length) {
      d.appendChild(h("ul", { class: "techniques", id: "narrative-techniques" }, item.techniques.map((t) => h("li", {},
        h("b", {}, t.technique), ` ${t.name} (${t.tactic}), confidence ${num(t.confidence, 2)} — `, h("i", {}, t.evidence)))));
    }
    const groups = s.groups.filter((g) => g === a || g === b).concat(s.groups.filter((g) => g !== a && g !== b));
    const chart = h("div", { class: "chart", id: "narrative-chart" });
    d.appendChild(chart);
    C.lines(chart, { yLabel: "articles per day", series: groups.map((g) => ({ name: g, points: s.points.filter((p) => p.group === g).map((p) => ({ x: p.period, y: p.n_articles })) })) });
    C.legend(d, groups);
  }

  async function renderConvergence() {
    const c = await api("/api/convergence");
    const b = body("convergence");
    b.textContent = "";
    const chart = h("div", { class: "chart" });
    if (c.available && c.items.length) {
      b.appendChild(h("p", { class: "muted" }, `Convergence index ${c.a || ""}–${c.b || ""} per ${c.freq || "period"} with its uncertainty band; components: ${(c.components || []).join(", ")}.`));
      b.appendChild(chart);
      C.lines(chart, { series: [{ name: "index", band: true, points: c.items.map((i) => ({ x: i.period.length === 7 ? i.period + "-01" : i.period, y: i.index, low: i.low, high: i.high })) }] });
      const w = withheld(c.withheld, "periods");
      if (w) b.appendChild(w);
      return;
    }
    // no convergence index yet: the narrative convergence of the synchronisation run stands in
    const n = await api("/api/narratives", { limit: 1 });
    if (n.available && Array.isArray(n.convergence) && n.convergence.length) {
      b.appendChild(h("p", { class: "muted" }, `Narrative convergence of ${n.a} and ${n.b} per month (share of shared narratives, with band). ${c.message || ""}`));
      b.appendChild(chart);
      C.lines(chart, { series: [{ name: "narrative convergence", band: true, points: n.convergence.map((r) => ({ x: r.period + "-01", y: r.value, low: r.low, high: r.high })) }] });
    } else {
      b.appendChild(h("p", { class: "muted" }, c.message || "No convergence computed."));
    }
  }

  async function renderCoincidences() {
    const c = await api("/api/coincidences", { limit: 200 });
    const b = body("coincidences");
    b.textContent = "";
    if (!c.available) { b.appendChild(h("p", { class: "muted" }, c.message)); return; }
    // significant pairs first, then by q; pairs with q > 0.5 (no evidence at all) only on request
    const sorted = c.items.slice().sort((x, y) => (y.significant ? 1 : 0) - (x.significant ? 1 : 0)
      || (x.q_value ?? 1) - (y.q_value ?? 1));
    const showAll = !!state.allPairs;
    const hidden = sorted.filter((p) => !((p.q_value ?? 1) <= 0.5)).length;
    const items = sorted.filter((p) => showAll || (p.q_value ?? 1) <= 0.5).slice(0, 50);
    b.appendChild(h("p", { class: "muted", id: "coincidences-note" },
      `${sorted.filter((p) => p.significant).length} significant of ${sorted.length} pairs shown to you. `,
      hidden ? h("button", { type: "button", class: "link", id: "coincidences-toggle",
        onclick: () => { state.allPairs = !showAll; renderCoincidences().catch((err) => panelError("coincidences", err)); } },
        showAll ? "Hide pairs with q > 0.5" : `Show ${hidden} pairs with q > 0.5`) : null));
    b.appendChild(h("table", { id: "coincidences-table" },
      h("thead", {}, h("tr", {}, ["", "B (earlier)", "A", "lag", "precursor", "trigger", "q-value", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, items.map((p) => h("tr", { class: p.significant ? "significant" : "" }, h("td", {}, tlp(p.tlp)), h("td", {}, p.b), h("td", {}, p.a),
        h("td", {}, p.best_lag_days === null ? "–" : p.best_lag_days + " d"), h("td", {}, pct(p.precursor_rate)), h("td", {}, pct(p.trigger_rate)),
        h("td", {}, num(p.q_value, 2)), h("td", {}, p.significant ? "significant" : ""))))));
    const w = withheld(c.withheld, "pairs");
    if (w) b.appendChild(w);
  }

  // the latest supply run's diversion candidates: both legs' mean monthly value before and after
  async function renderSupply() {
    const c = await api("/api/supply", { limit: 200 });
    const b = body("supply");
    b.textContent = "";
    if (!c.available) { b.appendChild(h("p", { class: "muted" }, c.message)); return; }
    const usd = (v) => (v === null || v === undefined) ? "n/a" : "$" + Number(v).toLocaleString(undefined, { maximumFractionDigits: 0 });
    const leg = (item, name) => ((item.evidence || {})[name]) || {};
    const originText = (o) => { const n = (o || "").split(",").length; return n > 3 ? `${n} origin countries` : o; };
    const change = (l) => `${usd(l.mean_monthly_usd_before)} → ${usd(l.mean_monthly_usd_after)}`;
    const items = c.items.slice().sort((x, y) => (y.significant ? 1 : 0) - (x.significant ? 1 : 0)
      || (x.p_value ?? 1) - (y.p_value ?? 1)).slice(0, 30);
    const first = items[0];
    b.appendChild(h("p", { class: "muted", id: "supply-note" },
      `${c.items.filter((i) => i.significant).length} significant of ${c.items.length} candidate transit countries`,
      first ? ` for ${originText(first.origin)} → ${first.destination} (break ${first.start}; mean monthly value before → after). Leads for an analyst, not proof of evasion.` : "."));
    b.appendChild(h("table", { id: "supply-table" },
      h("thead", {}, h("tr", {}, ["", "via", "origin → via", "via → destination", "excess (USD)", "q-value", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, items.map((i) => h("tr", { class: i.significant ? "significant" : "", "data-via": i.via },
        h("td", {}, tlp(i.tlp)), h("td", {}, i.via),
        h("td", {}, change(leg(i, "origin_to_via"))), h("td", {}, change(leg(i, "via_to_destination"))),
        h("td", {}, usd(i.excess_value_usd)), h("td", {}, num(i.q_value, 2)), h("td", {}, i.significant ? "significant" : ""))))));
    const w = withheld(c.withheld, "candidates");
    if (w) b.appendChild(w);
  }

  async function renderEvents(f, cursor) {
    const page = await api("/api/events", { ...f, limit: 50, order: "desc", cursor, count: cursor ? "false" : "true" });
    const b = body("events");
    if (!cursor) {
      b.textContent = "";
      b.appendChild(h("p", { class: "muted", id: "events-total" }, `${page.total.toLocaleString()} events match, newest first.`));
      const w = withheld(page.withheld, "events");
      if (w) b.appendChild(w);
      b.appendChild(eventsTable(page.events, "events-table"));
    } else {
      const tbody = b.querySelector("#events-table tbody");
      page.events.forEach((ev) => tbody.appendChild(eventRow(ev)));
    }
    const old = b.querySelector("button.more");
    if (old) old.remove();
    if (page.next_cursor) b.appendChild(h("button", { class: "more", type: "button", onclick: () => renderEvents(f, page.next_cursor).catch((err) => panelError("events", err)) }, "More"));
  }

  // ---- orchestration -----------------------------------------------------------------------
  async function guarded(id, fn) {
    try { await fn(); } catch (err) { panelError(id, err); }
  }

  async function renderFiltered() {
    window.hwReady = false;
    const f = readFilters();
    const active = Object.entries(f).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`);
    $("#filter-note").textContent = active.length ? "filtered: " + active.join(", ") : "";
    $("#episode-detail").hidden = true;
    await Promise.all([
      guarded("timeline", () => renderTimeline(f)),
      guarded("map", () => renderMap(f)),
      guarded("actor-targets", () => renderActorTargets(f)),
      guarded("episodes", () => renderEpisodes(f)),
      guarded("events", () => renderEvents(f)),
    ]);
    window.hwRenders += 1;
    decorate();
    window.hwReady = true;
  }

  // ---- page-level TLP banner, CSV export, print ----------------------------------------------
  const TLP_ORDER = ["clear", "green", "amber", "amber-strict", "red"];
  function updateBanner() {
    // the highest marking of anything on screen (badges in tables and details)
    let top = -1;
    document.querySelectorAll("main .tlp").forEach((node) => {
      const level = [...node.classList].find((k) => k.startsWith("tlp-"));
      if (level) top = Math.max(top, TLP_ORDER.indexOf(level.slice(4)));
    });
    const banner = $("#tlp-banner");
    if (top < 0) { banner.hidden = true; return; }
    const level = TLP_ORDER[top];
    banner.hidden = false;
    banner.className = `tlp-banner tlp-${level}`;
    banner.textContent = `TLP:${level.replace("-", "+").toUpperCase()} — the most restricted marking on this page`;
  }
  function csvCell(text) {
    const t = text.replace(/\s+/g, " ").trim();
    return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  }
  function tableCsv(table) {
    return [...table.querySelectorAll("tr")].map((tr) => [...tr.children].map((c) => csvCell(c.textContent)).join(",")).join("\r\n") + "\r\n";
  }
  function addCsvButtons() {
    document.querySelectorAll("main table").forEach((table) => {
      if (table.dataset.csv) return;
      table.dataset.csv = "1";
      const name = (table.id || table.closest("section")?.id || "table") + ".csv";
      const button = h("button", { type: "button", class: "csv", "data-for": table.id || "",
        onclick: () => {
          const blob = new Blob([tableCsv(table)], { type: "text/csv" });
          const a = h("a", { href: URL.createObjectURL(blob), download: name });
          document.body.appendChild(a); a.click(); a.remove();
          setTimeout(() => URL.revokeObjectURL(a.href), 1000);
        } }, "CSV");
      table.insertAdjacentElement("beforebegin", button);
    });
  }
  function decorate() { updateBanner(); addCsvButtons(); }
  new MutationObserver(() => decorate()).observe(document.querySelector("main"), { childList: true, subtree: true });
  $("#print-view").addEventListener("click", () => window.print());

  async function start() {
    window.hwReady = false;
    const hadToken = dropTokenFromAddress();
    try {
      const res = await fetch("/api/me", { credentials: "same-origin" });
      const answer = await res.json(); // read either way: an unread answer keeps its request open
      state.me = res.ok ? answer : null;
    } catch (err) {
      state.me = null;
    }
    if (!state.me) {
      showMessage((hadToken ? "A token in a link is not used (it ends up in logs and history). " : "") +
        "Sign in with an API token (from `hybridwatch token create --role viewer`) to see the data.");
      return;
    }
    showMessage("");
    state.defaultSince = null;
    $("#who").textContent = `${state.me.name} · ${state.me.role} · clearance TLP:${state.me.clearance.toUpperCase()}`;
    await Promise.all([
      guarded("overview", renderOverview),
      guarded("alerts", renderAlerts),
      guarded("filters", loadFilterOptions),
      guarded("narratives", renderNarratives),
      guarded("convergence", renderConvergence),
      guarded("coincidences", renderCoincidences),
      guarded("supply", renderSupply),
    ]);
    // the timeline opens on the last year of data; clear "From" to see everything
    if (state.overview && state.overview.events.last_day && !$("#f-since").value) {
      const d = new Date(state.overview.events.last_day + "T00:00:00Z");
      d.setUTCDate(d.getUTCDate() - 364);
      const first = state.overview.events.first_day;
      state.defaultSince = first && first > d.toISOString().slice(0, 10) ? "" : d.toISOString().slice(0, 10);
      $("#f-since").value = state.defaultSince;
    }
    await renderFiltered();
  }

  start();
})();
