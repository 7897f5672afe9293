"""bench.evidence_ceiling's per-class-day features: windows of counts, the pupil's baseline, absences in a row."""

from __future__ import annotations

import numpy as np
import pytest

from bench.evidence_ceiling import WINDOWS, _features

pytestmark = pytest.mark.unit


def test_features_count_the_last_class_days_and_the_absences_in_a_row() -> None:
    # (present, abandoned, guessing, answers, correct, homework) per class day, oldest first
    present = [(1.0, 0.0, 0.0, 10.0, 8.0, 0.0)] * 20
    fading = [(1.0, 1.0, 1.0, 4.0, 1.0, 0.0), (0.0, 0.0, 0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)]
    f = _features(np.asarray(present + fading))
    assert len(f) == 5 * (len(WINDOWS) + 1) + 2
    last2 = f[0:5]  # the last two class days: both absent
    assert last2 == [0.0, 0.0, 0.0, -1.0, 0.0]
    last4 = f[5:10]  # one ordinary day, the cut session, two absences
    assert last4[0] == pytest.approx(0.5) and last4[1] == 1.0 and last4[2] == 1.0
    assert last4[3] == pytest.approx(9 / 14)
    whole = f[20:25]
    assert whole[0] == pytest.approx(21 / 23) and whole[3] == pytest.approx(161 / 204)
    assert f[-2:] == [23.0, 2.0]
