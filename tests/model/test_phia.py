"""The PHIA yardstick: every band edge and every gap value, with the documented gap rule."""

import pytest

from hybridwatch.model.phia import PHIA_BANDS, phia_term

# (probability, term, in a gap?) — the band edges, then each gap's inside, near edges and middle
CASES = [
    (0.00, "remote chance", False), (0.05, "remote chance", False),
    (0.06, "remote chance", True), (0.074, "remote chance", True),
    (0.075, "highly unlikely", True), (0.09, "highly unlikely", True),
    (0.10, "highly unlikely", False), (0.20, "highly unlikely", False),
    (0.22, "highly unlikely", True), (0.225, "unlikely", True), (0.24, "unlikely", True),
    (0.25, "unlikely", False), (0.35, "unlikely", False),
    (0.37, "unlikely", True), (0.375, "realistic possibility", True),
    (0.39, "realistic possibility", True),
    (0.40, "realistic possibility", False), (0.50, "realistic possibility", False),
    (0.52, "realistic possibility", True), (0.525, "realistic possibility", True),
    (0.53, "likely", True), (0.55, "likely", False), (0.75, "likely", False),
    (0.77, "likely", True), (0.775, "likely", True), (0.78, "highly likely", True),
    (0.80, "highly likely", False), (0.90, "highly likely", False),
    (0.92, "highly likely", True), (0.925, "highly likely", True),
    (0.93, "almost certain", True), (0.95, "almost certain", False),
    (1.00, "almost certain", False),
]


@pytest.mark.parametrize("probability,term,in_gap", CASES)
def test_yardstick_terms(probability, term, in_gap):
    judgement = phia_term(probability)
    assert (judgement.term, judgement.in_gap) == (term, in_gap)


def test_every_basis_point_gets_the_nearest_band_and_ties_go_toward_fifty():
    """Exhaustive check of the rule against an independent formulation: distance to each band
    in basis points; the smallest wins; a tie goes to the band nearer 50%."""
    for bp in range(0, 10_001):
        def distance(band):
            low, high = round(band[1] * 100), round(band[2] * 100)
            return 0 if low <= bp <= high else min(abs(bp - low), abs(bp - high))
        best = min(distance(b) for b in PHIA_BANDS)
        nearest = [b for b in PHIA_BANDS if distance(b) == best]
        expected = min(nearest, key=lambda b: min(abs(5000 - round(b[1] * 100)),
                                                   abs(5000 - round(b[2] * 100))))
        assert phia_term(bp / 10_000).term == expected[0], bp


def test_float_noise_does_not_move_a_boundary():
    assert phia_term(0.5499999999).term == "likely"
    assert phia_term(0.0500000001).term == "remote chance"


def test_phrases_say_the_band_or_the_gap():
    assert phia_term(0.6).phrase() == "likely (55–75%)"
    assert phia_term(0.02).phrase() == "remote chance (≤5%)"
    assert phia_term(0.97).phrase() == "almost certain (≥95%)"
    assert phia_term(0.07).phrase() == "remote chance (7%, in the yardstick's 5–10% gap)"


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan")])
def test_out_of_range_is_an_error(bad):
    with pytest.raises(ValueError, match="probability"):
        phia_term(bad)
