"""All pairs in blocks of pairs (the Spark engine's tasks) give exactly ``all_pairs``'s result:
every null, block sizes that cut the series unevenly, an empty series among them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hybridwatch.analyses.coincidence_pairs import all_pairs
from hybridwatch.analyses.pairs_blocks import all_pairs_blocked


@pytest.mark.parametrize("null", ["block", "shift", "shuffle", "poisson"])
def test_blocks_of_pairs_equal_all_pairs(null):
    rng = np.random.default_rng(3)
    events = rng.random((400, 7)) < 0.05
    events[:, 3] = False                    # an empty series: its pairs are untestable
    events[1:, 1] |= events[:-1, 0]         # a planted coupling, 0 precedes 1 by a day
    names = [f"s{i}" for i in range(7)]
    options = dict(window_days=2, lags=(0, 1), null=null, n_surrogates=199, random_state=5)
    whole = json.dumps(all_pairs(events, names, **options).to_dict(), sort_keys=True)
    calls = []

    def record(function, items):
        calls.append(len(items))
        return [function(item) for item in items]

    for size in (1, 2, 3):
        blocked = all_pairs_blocked(events, names, series_per_block=size, map_tasks=record,
                                    **options)
        assert json.dumps(blocked.to_dict(), sort_keys=True) == whole, (null, size)
    assert calls == [21, 6, 3]              # 7, 4 and 3 groups: every pair of groups a task
    result = json.loads(whole)
    p = [np.inf if v is None or v != v else v for v in result["p_value"]]
    best = int(np.argmin(p))                # the planted coupling has the smallest p-value
    assert (names[result["a_index"][best]], names[result["b_index"][best]]) == ("s1", "s0")
