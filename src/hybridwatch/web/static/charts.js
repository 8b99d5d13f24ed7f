/* hybridwatch dashboard charts: small SVG charts without dependencies.
   HWCharts.stackedBars, HWCharts.lines, HWCharts.worldMap. Each takes a container element and
   plain data, replaces the container's content and returns the <svg>. */
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#24528f", "#c0392b", "#2e8b57", "#d68910", "#7d3c98", "#16a085", "#b9770e",
    "#5d6d7e", "#a93226", "#1f618d", "#117a65", "#884ea0", "#af601a", "#839192"];

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }
  function title(node, text) { el("title", {}, node).textContent = text; return node; }
  function colour(i) { return PALETTE[i % PALETTE.length]; }
  /* One colour per domain, whatever the filter: Okabe–Ito for the common domains, Tol's muted
     scheme for the rest (both colour-blind safe); information and social far apart. */
  const DOMAIN_COLOURS = {
    cyber: "#0072B2", information: "#E69F00", social: "#CC79A7", military: "#D55E00",
    diplomacy: "#009E73", economy: "#56B4E9", political: "#F0E442", intelligence: "#555555",
    infrastructure: "#332288", space: "#44AA99", culture: "#999933",
    public_administration: "#882255", legal: "#AA4499",
  };
  function colourOf(name, i) { return DOMAIN_COLOURS[name] || colour(i); }
  function day(text) { return Date.parse(text.slice(0, 10) + "T00:00:00Z"); }
  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }
  function fmt(n) { return n >= 1e6 ? (n / 1e6).toFixed(1) + "M" : n >= 1e3 ? (n / 1e3).toFixed(1) + "k" : String(Math.round(n * 100) / 100); }

  function frame(container, width, height) {
    container.textContent = "";
    return el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" }, container);
  }
  /* Charts draw in the panel's own pixels (1 unit = 1 px), so text is as large on screen as
     the stylesheet says and the chart fills its panel. */
  function widthOf(container) { return Math.max(320, Math.round(container.clientWidth || 1000)); }

  function timeAxis(svg, x0, x1, t0, t1, y, labels) {
    const g = el("g", { class: "axis" }, svg);
    el("line", { x1: x0, x2: x1, y1: y, y2: y }, g);
    const years = (t1 - t0) / (365.25 * 864e5);
    const step = years > 6 ? 24 : years > 2 ? 6 : years > 0.6 ? 3 : 1; // months between ticks
    const start = new Date(t0);
    let d = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    let n = 0;
    while (d.getTime() <= t1 && n < 40) {
      if (d.getUTCMonth() % step === 0) {
        const x = x0 + (d.getTime() - t0) / Math.max(1, t1 - t0) * (x1 - x0);
        el("line", { x1: x, x2: x, y1: y, y2: y + 4 }, g);
        // labels near an edge align to it instead of running out of the chart
        const anchor = x > x1 - 32 ? "end" : x < x0 + 32 ? "start" : "middle";
        const t = el("text", { x: x, y: y + 17, "text-anchor": anchor }, g);
        t.textContent = labels === "month" || step < 12 ? d.toISOString().slice(0, 7) : d.toISOString().slice(0, 4);
        n++;
      }
      d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
    }
  }

  function valueAxis(svg, x, yTop, yBottom, max, min = 0) {
    const g = el("g", { class: "axis" }, svg);
    const ticks = min < 0 ? [min, 0, max] : [0, max / 2, max];
    for (const v of ticks) {
      const y = yBottom - (v - min) / (max - min) * (yBottom - yTop);
      el("line", { x1: x - 3, x2: x, y1: y, y2: y }, g);
      const t = el("text", { x: x - 5, y: y + 4, "text-anchor": "end" }, g);
      t.textContent = v < 0 ? "−" + fmt(-v) : fmt(v);
    }
    if (min < 0) {  // the zero line
      const y0 = yBottom - (0 - min) / (max - min) * (yBottom - yTop);
      el("line", { class: "zero", x1: x, x2: svg.viewBox.baseVal.width, y1: y0, y2: y0 }, g);
    }
  }

  /* periods: ISO dates; groups: names; value(period, group) -> number;
     bands: [{start, end, label}] shaded behind the bars. */
  function stackedBars(container, { periods, groups, value, bands = [], periodDays = 7, height = 220, onBrush = null }) {
    const W = widthOf(container), H = height, L = 52, R = 10, T = 10, B = 26;
    const svg = frame(container, W, H);
    if (!periods.length) { const t = el("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, svg); t.textContent = "no events match these filters"; return svg; }
    const t0 = day(periods[0]), t1 = day(periods[periods.length - 1]) + periodDays * 864e5;
    const xs = (t) => L + (t - t0) / Math.max(1, t1 - t0) * (W - L - R);
    let max = 0;
    const totals = periods.map((p) => groups.reduce((s, g) => s + (value(p, g) || 0), 0));
    totals.forEach((v) => { if (v > max) max = v; });
    max = niceMax(max);
    const ys = (v) => H - B - v / max * (H - T - B);
    for (const band of bands) {
      const a = Math.max(day(band.start), t0), b = Math.min(day(band.end) + 864e5, t1);
      if (b <= a) continue;
      title(el("rect", { class: "episode", x: xs(a), y: T, width: Math.max(2, xs(b) - xs(a)), height: H - T - B }, svg), band.label);
    }
    const barW = Math.max(1, (W - L - R) / Math.max(1, (t1 - t0) / (periodDays * 864e5)) - 1);
    const g = el("g", { class: "bars" }, svg);
    periods.forEach((p) => {
      let base = 0;
      groups.forEach((grp, i) => {
        const v = value(p, grp) || 0;
        if (!v) return;
        // at least 1.5 px tall, so a small domain (cyber) stays visible in a stack
        const top = ys(base + v), bottom = ys(base);
        title(el("rect", { class: "bar", "data-group": grp, x: xs(day(p)), y: Math.min(top, bottom - 1.5), width: barW, height: Math.max(1.5, bottom - top), fill: colourOf(grp, i) }, g), `${p} ${grp}: ${v}`);
        base += v;
      });
    });
    valueAxis(svg, L, T, H - B, max);
    timeAxis(svg, L, W - R, t0, t1, H - B);
    if (onBrush) brush(svg, { x0: L, x1: W - R, y0: T, y1: H - B, t0, t1, onBrush });
    return svg;
  }

  /* Drag across a chart to select a time span: a shaded rectangle follows the pointer and on
     release onBrush(startMs, endMs) is called (spans under 4 px are taken as a click and
     ignored). The time under x is linear between x0 → t0 and x1 → t1. */
  function brush(svg, { x0, x1, y0, y1, t0, t1, onBrush }) {
    const area = svg;   // listen on the whole chart: bars keep their tooltips
    svg.classList.add("brushable");
    const sel = el("rect", { class: "brush", x: x0, y: y0, width: 0, height: y1 - y0 }, svg);
    sel.style.display = "none";
    sel.setAttribute("pointer-events", "none");
    const toX = (ev) => {
      const box = svg.getBoundingClientRect();
      const scale = svg.viewBox.baseVal.width / Math.max(1, box.width);
      return Math.min(x1, Math.max(x0, (ev.clientX - box.left) * scale));
    };
    const toT = (x) => t0 + (x - x0) / Math.max(1, x1 - x0) * (t1 - t0);
    let start = null;
    area.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      start = toX(ev);
      area.setPointerCapture && area.setPointerCapture(ev.pointerId);
      sel.style.display = "";
      sel.setAttribute("x", start); sel.setAttribute("width", 0);
      ev.preventDefault();
    });
    area.addEventListener("pointermove", (ev) => {
      if (start === null) return;
      const x = toX(ev);
      sel.setAttribute("x", Math.min(start, x)); sel.setAttribute("width", Math.abs(x - start));
    });
    const finish = (ev) => {
      if (start === null) return;
      const x = toX(ev), a = Math.min(start, x), b = Math.max(start, x);
      start = null;
      if (b - a < 4) { sel.style.display = "none"; return; }
      onBrush(toT(a), toT(b));
    };
    area.addEventListener("pointerup", finish);
    area.addEventListener("pointercancel", () => { start = null; sel.style.display = "none"; });
    return area;
  }

  /* Who acts against whom: actors on the left, targets on the right, one band per
     (actor, target, domain) link, its width proportional to the events and its colour the
     domain's. links: [{actor, target, domain, n_events}]. Only the largest maxNodes actors and
     targets are drawn; returns {svg, drawn, hidden} (links left out). */
  function actorTargets(container, { links, maxNodes = 12, names = {}, onSelect = null }) {
    const total = (key) => {
      const m = new Map();
      for (const l of links) m.set(l[key], (m.get(l[key]) || 0) + l.n_events);
      return [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, maxNodes);
    };
    const actors = total("actor"), targets = total("target");
    const keepA = new Set(actors.map((a) => a[0])), keepT = new Set(targets.map((t) => t[0]));
    const drawn = links.filter((l) => keepA.has(l.actor) && keepT.has(l.target));
    const W = widthOf(container), rows = Math.max(actors.length, targets.length, 1);
    const T = 22, B = 8, gap = 6, rowH = 26, H = T + B + rows * rowH;
    const svg = frame(container, W, H);
    if (!drawn.length) { const t = el("text", { x: W / 2, y: H / 2 + 4, "text-anchor": "middle" }, svg); t.textContent = "no actor–target events match these filters"; return { svg, drawn: 0, hidden: links.length }; }
    const labelW = Math.min(150, Math.max(96, W * 0.16)), nodeW = 10;
    const xA = labelW, xT = W - labelW - nodeW;
    const head = (x, anchor, text) => { const t = el("text", { x, y: 13, "text-anchor": anchor, class: "head" }, svg); t.textContent = text; };
    head(xA + nodeW, "end", "actor"); head(xT, "start", "target");
    // node heights share the rows' space in proportion to their events
    const place = (nodes) => {
      const sum = nodes.reduce((s, n) => s + n[1], 0) || 1;
      const space = rows * rowH - gap * nodes.length;
      let y = T;
      const out = new Map();
      for (const [key, n] of nodes) {
        const h = Math.max(rowH - gap, n / sum * space);
        out.set(key, { y, h, n, used: 0 });
        y += h + gap;
      }
      return out;
    };
    const posA = place(actors), posT = place(targets);
    // rescale so the taller column fits the frame
    const bottom = Math.max(...[...posA.values(), ...posT.values()].map((p) => p.y + p.h));
    const k = (H - B - T) / Math.max(1, bottom - T);
    for (const p of [...posA.values(), ...posT.values()]) { p.y = T + (p.y - T) * k; p.h *= k; }
    const g = el("g", { class: "links" }, svg);
    drawn.slice().sort((a, b) => b.n_events - a.n_events).forEach((l, i) => {
      const a = posA.get(l.actor), t = posT.get(l.target);
      const wa = a.h * l.n_events / a.n, wt = t.h * l.n_events / t.n;
      const ya = a.y + a.used + wa / 2, yt = t.y + t.used + wt / 2;
      a.used += wa; t.used += wt;
      const mx = (xA + nodeW + xT) / 2;
      const path = el("path", { class: "link", "data-domain": l.domain, "data-actor": l.actor, "data-target": l.target,
        d: `M${xA + nodeW},${ya}C${mx},${ya} ${mx},${yt} ${xT},${yt}`, fill: "none",
        stroke: colourOf(l.domain, i), "stroke-width": Math.max(1.5, Math.min(wa, wt)), "stroke-opacity": 0.55 }, g);
      title(path, `${l.actor} → ${l.target}, ${l.domain}: ${l.n_events.toLocaleString()} events`);
      if (onSelect) path.addEventListener("click", () => onSelect(l));
    });
    const node = (pos, x, anchor, side) => {
      for (const [key, p] of pos) {
        const r = el("rect", { class: "node", x, y: p.y, width: nodeW, height: Math.max(2, p.h), fill: "#4f5766", ["data-" + side]: key }, svg);
        title(r, `${names[key] || key}: ${p.n.toLocaleString()} events`);
        const t = el("text", { x: anchor === "end" ? x - 5 : x + nodeW + 5, y: p.y + p.h / 2 + 4, "text-anchor": anchor }, svg);
        t.textContent = `${key} ${fmt(p.n)}`;
      }
    };
    node(posA, xA, "end", "actor");
    node(posT, xT, "start", "target");
    return { svg, drawn: drawn.length, hidden: links.length - drawn.length };
  }

  /* series: [{name, points: [{x: ISO date, y, low?, high?}], band?: true}]; values may be
     negative (the axis then spans them, with a zero line). A step longer than 1.5 × the usual
     spacing of the points (a withheld or missing month) breaks the line and the band. */
  function lines(container, { series, height = 220, yMax = null, yLabel = "" }) {
    const W = widthOf(container), H = height, L = 52, R = 12, T = 14, B = 26;
    const svg = frame(container, W, H);
    const all = series.flatMap((s) => s.points.filter((p) => p.y !== null && p.y !== undefined));
    if (!all.length) { const t = el("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, svg); t.textContent = "no data"; return svg; }
    const ts = all.map((p) => day(p.x));
    const t0 = Math.min(...ts), t1 = Math.max(...ts) + 864e5;
    const hi = Math.max(...all.map((p) => Math.max(p.y, p.high ?? p.y)));
    const lo = Math.min(...all.map((p) => Math.min(p.y, p.low ?? p.y)));
    const max = yMax || niceMax(Math.max(hi, 0));
    const min = lo < 0 ? -niceMax(-lo) : 0;
    const xs = (t) => L + (t - t0) / Math.max(1, t1 - t0) * (W - L - R);
    const ys = (v) => H - B - (v - min) / (max - min) * (H - T - B);
    series.forEach((s, i) => {
      const pts = s.points.filter((p) => p.y !== null && p.y !== undefined);
      const steps = pts.slice(1).map((p, j) => day(p.x) - day(pts[j].x)).sort((a, b) => a - b);
      const usual = steps.length ? steps[Math.floor(steps.length / 2)] : 0;
      const runs = [];   // consecutive points without a gap
      pts.forEach((p, j) => {
        if (!j || day(p.x) - day(pts[j - 1].x) > 1.5 * usual) runs.push([]);
        runs[runs.length - 1].push(p);
      });
      const c = colourOf(s.name, i);
      for (const run of runs) {
        if (s.band) {
          const banded = run.filter((p) => p.low !== null && p.low !== undefined && p.high !== null && p.high !== undefined);
          if (banded.length) {
            const up = banded.map((p) => `${xs(day(p.x))},${ys(p.high)}`);
            const down = banded.slice().reverse().map((p) => `${xs(day(p.x))},${ys(p.low)}`);
            el("path", { class: "band", d: "M" + up.concat(down).join("L") + "Z", fill: c, opacity: 0.15 }, svg);
          }
        }
        const d = run.map((p, j) => (j ? "L" : "M") + xs(day(p.x)) + "," + ys(p.y)).join("");
        title(el("path", { class: "line", d, fill: "none", stroke: c, "stroke-width": 1.8 }, svg), s.name);
      }
      for (const p of pts.length <= 60 ? pts : []) {
        title(el("circle", { cx: xs(day(p.x)), cy: ys(p.y), r: 2.6, fill: c }, svg), `${s.name} ${p.x}: ${fmt(p.y)}`);
      }
    });
    valueAxis(svg, L, T, H - B, max, min);
    timeAxis(svg, L, W - R, t0, t1, H - B);
    if (yLabel) { const t = el("text", { x: 4, y: 11 }, svg); t.textContent = yLabel; }
    return svg;
  }

  /* geo: GeoJSON FeatureCollection keyed by properties.iso3; counts: {ISO3: n} */
  function worldMap(container, { geo, counts, selected, onSelect }) {
    const W = 1000, H = 470, latTop = 84, latBottom = -58;
    const svg = frame(container, W, H);
    const px = (lon, lat) => [((lon + 180) / 360 * W).toFixed(1), ((latTop - lat) / (latTop - latBottom) * H).toFixed(1)];
    const max = Math.max(1, ...Object.values(counts));
    const shade = (n) => {
      if (!n) return "#e3e6eb";
      const f = Math.log1p(n) / Math.log1p(max); // log scale: counts span orders of magnitude
      const l = 88 - 58 * f;
      return `hsl(213, 60%, ${l.toFixed(0)}%)`;
    };
    const ring = (r) => r.map(([lon, lat], j) => (j ? "L" : "M") + px(lon, lat).join(",")).join("") + "Z";
    for (const f of geo.features) {
      const g = f.geometry;
      if (!g) continue;
      const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      const d = polys.map((p) => p.map(ring).join("")).join("");
      const iso3 = f.properties.iso3;
      const n = counts[iso3] || 0;
      const path = el("path", { class: "country", d, fill: shade(n), "data-iso3": iso3, "fill-rule": "evenodd" }, svg);
      if (iso3 === selected) path.setAttribute("stroke", "#1d2330"), path.setAttribute("stroke-width", "1.5");
      title(path, `${f.properties.name} (${iso3}): ${n.toLocaleString()} events`);
      if (onSelect) path.addEventListener("click", () => onSelect(iso3));
    }
    return svg;
  }

  function legend(container, groups) {
    const div = document.createElement("div");
    div.className = "legend";
    groups.forEach((g, i) => {
      const span = document.createElement("span");
      const sw = document.createElement("i");
      sw.style.background = colourOf(g, i);
      span.append(sw, document.createTextNode(g === null ? "(none)" : g));
      div.appendChild(span);
    });
    container.appendChild(div);
  }

  window.HWCharts = { stackedBars, lines, worldMap, legend, actorTargets, brush, colour, colourOf, DOMAIN_COLOURS };
})();
