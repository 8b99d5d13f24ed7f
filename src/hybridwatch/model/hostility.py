"""Which events are hostile and which cooperative, as SQL predicates over the event table.

The rule, per source (``docs/hostility.md`` has the table and the reasons):

- **CAMEO-coded rows** (``source = 'gdelt'``, and any mapped row whose intensity is a Goldstein
  score): hostile iff the CAMEO root code (the first two digits of ``source_type``) is 10–20 —
  demand, disapprove, reject, threaten, protest, exhibit force posture, reduce relations,
  coerce, assault, fight, mass violence: exactly GDELT's QuadClass 3–4 (verbal and material
  conflict). Roots 01–09 (statements, appeals, intentions to cooperate, consultations,
  diplomatic and material cooperation, aid, yielding, investigate: QuadClass 1–2) are
  cooperative. Root 09 (investigate) is QuadClass 2 in GDELT's own coding (all 45 such rows of
  the real 2019 export), so it is not hostile. A row without a readable root is neither.
- **ACLED**: hostile except the sub-event types that record no hostile act: ``Agreement``,
  ``Non-violent transfer of territory``, ``Change to group/activity`` and ``Other`` (all
  Strategic developments), and ``Peaceful protest``. Battles, explosions/remote violence,
  violence against civilians and riots are hostile; protests with intervention or excessive
  force count as hostile as CAMEO counts protest (root 14) as conflict.
- **STIX, TAXII, MISP, EuRepoC, EUvsDisinfo** and the other sources (cyber operations,
  indicators of attack, disinformation cases, military activity such as PLA sorties): hostile
  by nature — each record is an attack, an operation, an indicator of one or a disinformation
  case.
- **Trade rows** (``intensity_kind = 'trade_value_usd'``) are neither hostile nor cooperative.
"""

from __future__ import annotations

#: Rows whose ``source_type`` is a CAMEO event code.
CAMEO_CODED_SQL = "(source = 'gdelt' OR coalesce(intensity_kind, '') = 'goldstein')"
_ROOT = "TRY_CAST(substr(source_type, 1, 2) AS INTEGER)"
#: ACLED sub-event types that record no hostile act.
ACLED_NOT_HOSTILE = ("Agreement", "Non-violent transfer of territory",
                     "Change to group/activity", "Other", "Peaceful protest")

_ACLED_LIST = ", ".join("'" + lower.replace("'", "''") + "'"
                        for lower in (t.lower() for t in ACLED_NOT_HOSTILE))

#: A CAMEO-coded event with a cooperative root (01–09, QuadClass 1–2).
COOPERATIVE_SQL = f"({CAMEO_CODED_SQL} AND coalesce({_ROOT} BETWEEN 1 AND 9, FALSE))"
#: A hostile event by the rule above.
HOSTILE_SQL = (
    f"(CASE WHEN {CAMEO_CODED_SQL} THEN coalesce({_ROOT} BETWEEN 10 AND 20, FALSE) "
    f"WHEN source = 'acled' THEN lower(trim(coalesce(source_type, ''))) NOT IN ({_ACLED_LIST}) "
    "ELSE coalesce(intensity_kind, '') <> 'trade_value_usd' END)"
)


def describe(include_cooperative: bool) -> str:
    """What an episode scan counted, in words for outputs: only say "hostile" when it is true."""
    return ("all events (hostile and cooperative)" if include_cooperative
            else "hostile events")
