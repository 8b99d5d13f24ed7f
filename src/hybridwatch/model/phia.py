"""The UK PHIA probability yardstick and the confidence vocabulary.

The yardstick (Professional Head of Intelligence Assessment) names seven bands and leaves
deliberate gaps between them:

    remote chance ≤ 5% · highly unlikely 10–20% · unlikely 25–35% · realistic possibility 40–50%
    likely / probable 55–75% · highly likely 80–90% · almost certain ≥ 95%

**Our rule for the gaps** (5–10, 20–25, 35–40, 50–55, 75–80, 90–95%): a value in a gap takes the
term of the nearer band edge; a value exactly halfway takes the term *nearer 50%* — the less
extreme wording, in line with the assessment's warning against over-reaction. Every judgement
in a gap is flagged (``in_gap``) and reports its number, so the reader sees both.
Values are compared in whole basis points (0.01%) so 0.55 written as 0.5499999999 is still 55%.

Confidence (low / moderate / high) is separate: it rates the evidence and the model's record,
not the probability.
"""

from __future__ import annotations

from dataclasses import dataclass

from hybridwatch.model.phrasing import phia_sentence

#: (term, lowest %, highest %) in increasing order; the bands of the yardstick.
PHIA_BANDS: tuple[tuple[str, float, float], ...] = (
    ("remote chance", 0.0, 5.0),
    ("highly unlikely", 10.0, 20.0),
    ("unlikely", 25.0, 35.0),
    ("realistic possibility", 40.0, 50.0),
    ("likely", 55.0, 75.0),
    ("highly likely", 80.0, 90.0),
    ("almost certain", 95.0, 100.0),
)
PHIA_TERMS = tuple(term for term, _, _ in PHIA_BANDS)
CONFIDENCE_LEVELS = ("low", "moderate", "high")


@dataclass(frozen=True)
class PhiaJudgement:
    """A probability in yardstick words."""

    probability: float
    term: str
    band_percent: tuple[float, float]     # the term's band on the yardstick
    in_gap: bool                          # the value lies between two bands
    gap_percent: tuple[float, float] | None = None

    def band_text(self) -> str:
        """'55–75%', '≤5%', or for a value in a gap "7%, in the yardstick's 5–10% gap"."""
        if self.in_gap and self.gap_percent:
            return (f"{self.probability:.0%}, in the yardstick's "
                    f"{self.gap_percent[0]:g}–{self.gap_percent[1]:g}% gap")
        low, high = self.band_percent
        return f"≤{high:g}%" if low == 0 else f"≥{low:g}%" if high == 100 else f"{low:g}–{high:g}%"

    def phrase(self) -> str:
        """'likely (55–75%)', or for a value in a gap 'remote chance (7%, in the 5–10% gap)' —
        the wording a briefing uses."""
        return f"{self.term} ({self.band_text()})"

    def sentence(self, clause: str) -> str:
        """The judgement as a grammatical sentence opening: 'There is a remote chance (≤5%)
        that {clause}', 'It is likely (55–75%) that {clause}'."""
        return phia_sentence(self.term, clause, self.band_text())


def phia_term(probability: float) -> PhiaJudgement:
    """The yardstick term for ``probability`` (0–1), with the gap rule of this module."""
    if not 0.0 <= probability <= 1.0 or probability != probability:
        raise ValueError(f"probability must be in [0, 1], got {probability!r}")
    bp = round(probability * 10_000)                       # basis points
    for index, (term, low, high) in enumerate(PHIA_BANDS):
        if round(low * 100) <= bp <= round(high * 100):
            return PhiaJudgement(probability, term, (low, high), in_gap=False)
        next_low = PHIA_BANDS[index + 1][1] if index + 1 < len(PHIA_BANDS) else None
        if next_low is not None and round(high * 100) < bp < round(next_low * 100):
            to_lower, to_upper = bp - round(high * 100), round(next_low * 100) - bp
            if to_lower == to_upper:          # halfway: the band nearer 50% wins
                chosen = index if high >= 50 else index + 1
            else:
                chosen = index if to_lower < to_upper else index + 1
            term, band_low, band_high = PHIA_BANDS[chosen]
            return PhiaJudgement(probability, term, (band_low, band_high), in_gap=True,
                                 gap_percent=(high, next_low))
    raise AssertionError("unreachable: the bands and gaps cover [0, 1]")
