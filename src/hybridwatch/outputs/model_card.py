"""The model card (a dict from ``workflows.model_card``) as Markdown, in the sections of
Mitchell et al. (2019)."""

from __future__ import annotations

from typing import Any


def _num(value: Any, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def render_markdown(card: dict[str, Any]) -> str:
    model, data, evaluation = card["model"], card["training_data"], card["evaluation"]
    lines = [f"# Model card: {model['name']} {model['version']}", "",
             f"Last evaluated {evaluation['evaluated_at']} (assessment run "
             f"`{evaluation['run_id']}`), as of {evaluation['as_of']}.", "",
             "## Model details", "", f"- Type: {model['type']}.",
             f"- Horizon: {model['horizon_days']} days; counts {model['counted']}."]
    lines += [f"- Outcome `{k}`: {v}." for k, v in model["outcomes"].items()]
    lines += ["", "## Intended use", ""] + [f"- {u}" for u in card["intended_use"]]
    lines += ["", "## Out-of-scope uses", ""] + [f"- {u}" for u in card["out_of_scope"]]
    lines += ["", "## Training data", "",
              f"Events dated {data['window']['first']} to {data['window']['last']} "
              f"({data['events']:,} target-event rows) against the "
              f"{len(data['modelled_targets'])} modelled targets." if data.get("recorded", True)
              else "The assessment run does not record the data it read.", ""]
    lines += _table(["source", "events", "first", "last", "collector", "licence"],
                    [[s["source"], f"{s['events']:,}", s["first"], s["last"],
                      (s["statement"] or {}).get("collector", "no data statement"),
                      (s["statement"] or {}).get("licence", "—")] for s in data["sources"]])
    lines += ["", "Events per target and domain:", ""]
    lines += _table(["target"] + data["domains"] + ["total"],
                    [[f"{t['target']} ({t['name']})"] + [f"{t['by_domain'][d]:,}"
                                                         for d in data["domains"]]
                     + [f"{t['events']:,}"] for t in data["by_target"]])
    fits = [f"{k}: {v['n_train']:,} training rows, {v['n_positive']:,} positive" if v["fitted"]
            else f"{k}: not fitted (too few outcomes; base rate)" for k, v in data["fits"].items()]
    lines += ["", "Final fits: " + "; ".join(fits) + "." if fits else "", ""]
    lines += ["### Data statements", ""]
    for s in data["sources"]:
        st = s["statement"]
        if not st:
            lines.append(f"- **{s['source']}**: no data statement.")
            continue
        lines.append(f"- **{s['source']}** — {st['collector']}. Licence: {st['licence']}. "
                     f"Coverage: {st['coverage']}. Known biases: " + " ".join(st["biases"]))
    lines += ["", "## Features", ""]
    for f in card["features"]:
        lines.append(f"- **{f['name']}** — {f['meaning']}. The domain expects more of it to "
                     "mean more risk.")
        for outcome, o in f["outcomes"].items():
            flag = "" if o["agrees_with_domain"] else " **Against the domain's expectation.**"
            lines.append(f"  - {outcome}: {o['words']}.{flag}")
    lines += ["", "## Backtest metrics", ""]
    for name, m in card["metrics"].items():
        origins = m.get("origins") or {}
        lines += [f"### {name}", "",
                  f"{m['n_forecasts']:,} forecasts at {m['n_origins'] or 0:,} origins"
                  + (f" from {origins['first']} to {origins['last']}" if origins else "")
                  + f"; base rate: {m['base_rate_words']}.", "",
                  f"- Brier score {_num(m['brier'], '.4f')} (climatology "
                  f"{_num(m['brier_climatology'], '.4f')}, persistence "
                  f"{_num(m['brier_persistence'], '.4f')}); log loss "
                  f"{_num(m['log_loss'], '.4f')}.",
                  f"- Brier skill against climatology {_num(m['skill'], '+.3f')} (90% interval "
                  f"{_num(m['skill_low'], '+.3f')} to {_num(m['skill_high'], '+.3f')}); against "
                  f"persistence {_num(m['skill_persistence'], '+.3f')}. Skill "
                  + ("demonstrated." if m["demonstrated"] else "not demonstrated."),
                  f"- {m['verdict']}", ""]
        if m["reliability"]:
            lines += _table(["bin", "forecasts", "mean forecast", "observed"],
                            [[f"{r['bin_low']:.1f}–{r['bin_high']:.1f}", f"{r['n']:,}",
                              f"{r['mean_forecast']:.3f}", f"{r['observed_rate']:.3f}"]
                             for r in m["reliability"]]) + [""]
    lines += ["## Known failure modes", ""]
    lines += [f"- **{m['mode']}**: {m['detail']}" for m in card["failure_modes"]]
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"
