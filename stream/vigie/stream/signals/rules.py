"""The signal rules: pure functions from a pupil's numbers to a severity and readable reasons.

Each rule returns a ``Finding`` (severity and reasons, with the numbers behind them) or ``None``.
Rules take ``active`` (is the signal currently raised?) to apply hysteresis: a raised signal
clears only once the numbers fall clearly below the raising threshold, so a pupil hovering at the
threshold does not flip the signal on every answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

from vigie.core.contract.events import Severity, SignalReason

SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high")
RANK: dict[Severity | None, int] = {None: 0, "low": 1, "medium": 2, "high": 3}

#: The teacher's alert: the calibrated risk of disengaging within the horizon (``risk_model``, docs/signals.md).
RISK_SIGNAL = "dropout_risk"
#: The rule signals that speak of dropping out: still emitted, as readable indicators, but "at risk" is the
#: calibrated risk (wheel-spinning is a learning difficulty, reported but not a dropout risk).
DROPOUT_SIGNALS = frozenset({"inactivity", "falling_success", "rapid_guessing", "abandoned_sessions"})


def counts_as_at_risk(signal_type: str, severity: Severity | None, min_rank: int = RANK["medium"]) -> bool:
    """ "At risk", once for Python (the warehouse's ``pupils_at_risk`` view is its SQL twin): an open
    calibrated dropout risk (``RISK_SIGNAL``) of severity medium or high. Low severities are early hints;
    the rule signals are indicators; wheel-spinning is not a dropout risk."""
    return signal_type == RISK_SIGNAL and RANK[severity] >= min_rank


@dataclass(frozen=True, slots=True)
class Finding:
    """A severity, and how to explain it (built only when the signal changes: rules run on every answer)."""

    severity: Severity
    explain: Callable[[], tuple[SignalReason, ...]]

    @property
    def reasons(self) -> tuple[SignalReason, ...]:
        return self.explain()


@dataclass(frozen=True, slots=True)
class SignalRules:
    """Every threshold of the signals, in one place (defaults tuned on the simulator, see evaluation)."""

    # Inactivity: missed school days, relative to the pupil's usual gap between active days.
    rhythm_min_gaps: int = 3  # below this many observed gaps, the usual gap is `default_gap`
    rhythm_warmup_days: int = 10  # school days of history before the pupil's own rhythm is trusted
    rhythm_max_days: int = 12  # active days kept to measure the rhythm
    default_gap: float = 2.0
    rhythm_quantile: float = 0.5  # the usual gap is this quantile of the recent gaps (0.5: the median)
    inactivity_multiples: tuple[float, float, float] = (2.0, 3.0, 4.0)  # x usual gap: low, medium, high
    inactivity_min_days: tuple[int, int, int] = (2, 3, 5)  # and at least this many school days
    inactivity_extra_days: tuple[float, float, float] = (0.0, 0.0, 0.0)  # added to the multiples
    # Falling success: recent answers against the pupil's own earlier level.
    recent_answers: int = 20
    earlier_min_answers: int = 30
    earlier_window: int = 60  # the earlier level is a running mean over about this many answers
    success_drops: tuple[float, float, float] = (0.25, 0.40, 0.55)
    success_clear_drop: float = 0.10
    # Wheel-spinning: attempts on a skill without a success streak.
    mastery_streak: int = 3
    spinning_attempts: tuple[int, int, int] = (10, 15, 25)
    # Rapid guessing: answers much faster than the item's usual time.
    rapid_fraction: float = 0.3  # faster than this share of the item's typical time is "rapid"
    item_min_answers: int = 5  # the item's typical time is trusted after this many answers
    rapid_window: int = 40  # about four sessions: one hurried session alone does not make a pattern
    rapid_min_answers: int = 10
    rapid_shares: tuple[float, float, float] = (0.20, 0.35, 0.50)
    rapid_clear_share: float = 0.10
    rapid_max_success: float = 0.5
    # Abandoned sessions: sessions left without a single answer, among the last few.
    session_window: int = 6
    abandoned_counts: tuple[int, int, int] = (2, 3, 4)
    # Falling success and rapid guessing are common alone (a hard week, one hurried session): while the
    # pupil shows no inactivity they stay at `alone_cap`; with inactivity they rise `corroboration_bump` levels.
    capped_alone: tuple[str, ...] = ("falling_success", "rapid_guessing")
    alone_cap: Severity = "low"
    corroboration_bump: int = 1
    # Inactivity after sessions with no precursor: this many levels lower (1: fewer false alarms, later warnings).
    inactivity_alone_drop: int = 0
    precursors_corroborate: bool = False  # True: precursors also corroborate each other (noisier, see evaluation)


def level(value: float, thresholds: tuple[float, float, float], keep_low_from: float | None = None) -> Severity | None:
    """The severity of ``value``: that of the highest threshold it reaches; an open signal stays "low" while the
    value is still at least ``keep_low_from`` (hysteresis: no flapping around the first threshold).

    The severity alone, with no reasons, so that the engine can tell cheaply on every answer whether a signal
    changes; the rules below build their findings on it."""
    if value >= thresholds[2]:
        return "high"
    if value >= thresholds[1]:
        return "medium"
    if value >= thresholds[0] or (keep_low_from is not None and value >= keep_low_from):
        return "low"
    return None


def _graded(
    value: float, thresholds: tuple[float, float, float], keep_low_from: float | None = None
) -> tuple[Severity, float] | None:
    """Severity of ``value`` (``level``) and the threshold it passed (the first one for a kept "low")."""
    severity = level(value, thresholds, keep_low_from)
    if severity is None:
        return None
    return severity, thresholds[SEVERITIES.index(severity)]


def _days(n: float) -> str:
    n = round(n, 1)
    shown = int(n) if n == int(n) else n
    return f"{shown} jour d'école" if n <= 1 else f"{shown} jours d'école"


def usual_gap(gaps: list[int], rules: SignalRules, history_days: int | None = None) -> float:
    """The pupil's usual gap, in school days, between two active days (a quantile of the recent gaps).

    With too few gaps, or less than ``rhythm_warmup_days`` school days of history (the first busy
    days of a year say little of a pupil's rhythm), it is ``default_gap``.
    """
    if len(gaps) < rules.rhythm_min_gaps or (history_days is not None and history_days < rules.rhythm_warmup_days):
        return rules.default_gap
    if rules.rhythm_quantile == 0.5:
        return max(1.0, float(median(gaps)))
    ordered = sorted(gaps)
    return max(1.0, float(ordered[max(0, math.ceil(rules.rhythm_quantile * len(ordered)) - 1)]))


def inactivity(missed: int, gap: float, rules: SignalRules) -> Finding | None:
    """``missed`` school days without activity, for a pupil who is usually active every ``gap`` school days."""
    low, medium, high = (
        max(m, k * gap + extra)
        for m, k, extra in zip(
            rules.inactivity_min_days, rules.inactivity_multiples, rules.inactivity_extra_days, strict=True
        )
    )
    graded = _graded(missed, (low, medium, high))
    if graded is None:
        return None
    severity, threshold = graded
    return Finding(
        severity,
        lambda: (
            SignalReason(
                code="school_days_inactive",
                value=missed,
                threshold=threshold,
                text=f"Aucune activité depuis {_days(missed)} (seuil : {_days(threshold)}).",
            ),
            SignalReason(
                code="usual_gap_school_days",
                value=round(gap, 2),
                threshold=rules.default_gap,
                text=f"D'habitude, l'élève travaille tous les {_days(gap)}.",
            ),
        ),
    )


def falling_success_level(recent_rate: float, earlier_rate: float, active: bool, rules: SignalRules) -> Severity | None:
    return level(earlier_rate - recent_rate, rules.success_drops, rules.success_clear_drop if active else None)


def falling_success(recent_rate: float, earlier_rate: float, active: bool, rules: SignalRules) -> Finding | None:
    drop = earlier_rate - recent_rate
    graded = _graded(drop, rules.success_drops, rules.success_clear_drop if active else None)
    if graded is None:
        return None
    severity, threshold = graded
    return Finding(
        severity,
        lambda: (
            SignalReason(
                code="success_drop",
                value=round(drop, 3),
                threshold=threshold,
                text=f"Réussite en baisse de {round(100 * drop)} points (seuil : {round(100 * threshold)}).",
            ),
            SignalReason(
                code="recent_success_rate",
                value=round(recent_rate, 3),
                threshold=round(earlier_rate, 3),
                text=f"{round(100 * recent_rate)} % de réussite sur les {rules.recent_answers} dernières "
                f"réponses, contre {round(100 * earlier_rate)} % auparavant.",
            ),
        ),
    )


def wheel_spinning_level(attempts: int, rules: SignalRules) -> Severity | None:
    return level(attempts, rules.spinning_attempts)


def wheel_spinning(attempts: int, best_streak: int, skill_label: str, rules: SignalRules) -> Finding | None:
    graded = _graded(attempts, rules.spinning_attempts)
    if graded is None:
        return None
    severity, threshold = graded
    return Finding(
        severity,
        lambda: (
            SignalReason(
                code="attempts_without_mastery",
                value=attempts,
                threshold=threshold,
                text=f"{attempts} tentatives sur « {skill_label} » sans {rules.mastery_streak} "
                f"réussites d'affilée (seuil : {threshold}).",
            ),
            SignalReason(
                code="best_success_streak",
                value=best_streak,
                threshold=rules.mastery_streak,
                text=f"Meilleure série de réussites : {best_streak}.",
            ),
        ),
    )


def rapid_guessing_level(
    rapid: int, answered: int, rapid_correct: int, active: bool, rules: SignalRules
) -> Severity | None:
    if answered < rules.rapid_min_answers or rapid == 0 or rapid_correct / rapid > rules.rapid_max_success:
        return None
    return level(rapid / answered, rules.rapid_shares, rules.rapid_clear_share if active else None)


def rapid_guessing(rapid: int, answered: int, rapid_correct: int, active: bool, rules: SignalRules) -> Finding | None:
    if rapid_guessing_level(rapid, answered, rapid_correct, active, rules) is None:
        return None
    share, success = rapid / answered, rapid_correct / rapid
    graded = _graded(share, rules.rapid_shares, rules.rapid_clear_share if active else None)
    if graded is None:
        return None
    severity, threshold = graded
    return Finding(
        severity,
        lambda: (
            SignalReason(
                code="rapid_answer_share",
                value=round(share, 3),
                threshold=threshold,
                text=f"{rapid} réponses sur {answered} données bien plus vite que le temps habituel "
                f"de l'exercice (seuil : {round(100 * threshold)} %).",
            ),
            SignalReason(
                code="rapid_answer_success",
                value=round(success, 3),
                threshold=rules.rapid_max_success,
                text=f"Seulement {round(100 * success)} % de réussite sur ces réponses rapides.",
            ),
        ),
    )


def abandoned_sessions_level(abandoned: int, rules: SignalRules) -> Severity | None:
    return level(abandoned, rules.abandoned_counts)


def abandoned_sessions(abandoned: int, sessions: int, rules: SignalRules) -> Finding | None:
    graded = _graded(abandoned, rules.abandoned_counts)
    if graded is None:
        return None
    severity, threshold = graded
    return Finding(
        severity,
        lambda: (
            SignalReason(
                code="abandoned_sessions",
                value=abandoned,
                threshold=threshold,
                text=f"{abandoned} séances ouvertes puis quittées sans aucune réponse, "
                f"sur les {sessions} dernières (seuil : {threshold}).",
            ),
        ),
    )


NAMES = {
    "inactivity": "inactivité",
    "falling_success": "réussite en baisse",
    "rapid_guessing": "réponses au hasard",
    "abandoned_sessions": "séances abandonnées",
}


def corroborated(severity: Severity, corroborated_by_others: bool, rules: SignalRules) -> Severity:
    """A precursor's severity given whether other dropout signals are open: capped alone, raised when corroborated."""
    rank = RANK[severity]
    rank = min(3, rank + rules.corroboration_bump) if corroborated_by_others else min(rank, RANK[rules.alone_cap])
    return SEVERITIES[rank - 1]


def corroborate(finding: Finding, others: list[str], rules: SignalRules) -> Finding:
    """``corroborated``, with the reasons saying which other signals are open (``others``)."""
    severity = corroborated(finding.severity, bool(others), rules)
    explain = finding.explain

    def reasons() -> tuple[SignalReason, ...]:
        if not others:
            return (
                *explain(),
                SignalReason(
                    code="other_signals", value=0, threshold=1, text="Signe isolé : aucun autre signal en cours."
                ),
            )
        names = ", ".join(NAMES.get(o, o) for o in others)
        return (
            *explain(),
            SignalReason(
                code="other_signals", value=len(others), threshold=1, text=f"Autres signaux en cours : {names}."
            ),
        )

    return Finding(severity, reasons)


def corroborate_inactivity(finding: Finding, precursors: list[str], rules: SignalRules) -> Finding:
    """Inactivity is kept as is after sessions that showed precursors, and lowered (never below low) after
    ordinary ones; the reasons say which."""
    rank = RANK[finding.severity] if precursors else max(1, RANK[finding.severity] - rules.inactivity_alone_drop)
    explain = finding.explain
    names = ", ".join(NAMES.get(p, p) for p in precursors)

    def reasons() -> tuple[SignalReason, ...]:
        if precursors:
            return (
                *explain(),
                SignalReason(
                    code="precursors", value=len(precursors), threshold=1, text=f"Avant ce silence : {names}."
                ),
            )
        return (
            *explain(),
            SignalReason(
                code="precursors", value=0, threshold=1, text="Dernières séances sans signe de décrochage (absence ?)."
            ),
        )

    return Finding(SEVERITIES[rank - 1], reasons)
