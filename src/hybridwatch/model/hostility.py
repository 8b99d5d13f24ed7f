"""Which events are hostile and which cooperative, as SQL predicates over the event table.

CAMEO-coded sources (GDELT) code both: roots 01–08 are cooperation (QuadClass 1–2: statements,
appeals, consultations, aid), 09–20 conflict (QuadClass 3–4). The other sources record hostile
activity only (cyber operations, disinformation cases, military pressure, conflict events) —
except trade rows, which are neither.
"""

from __future__ import annotations

#: A GDELT event with a cooperative CAMEO root (QuadClass 1–2).
COOPERATIVE_SQL = ("(source = 'gdelt' AND substr(coalesce(source_type, ''), 1, 2) "
                   "BETWEEN '01' AND '08')")
#: Everything else but trade statistics.
HOSTILE_SQL = (f"(NOT {COOPERATIVE_SQL} AND coalesce(intensity_kind, '') <> 'trade_value_usd')")
