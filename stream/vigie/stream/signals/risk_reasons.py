"""The reasons of a dropout risk, in French, with their numbers: the risk itself, then the features that
raised it most (largest positive contributions), each with the pupil's value and a typical pupil's.

A contribution is shown in points of risk: how much lower the calibrated risk would be if that
feature were at the history's average (its contribution removed, the others kept).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from vigie.core.contract.events import SignalReason
from vigie.stream.signals.risk_features import FEATURES
from vigie.stream.signals.risk_model import RiskModel, RiskScore

#: Reasons shown beside the risk itself, and the smallest contribution (log-odds) worth showing.
TOP_REASONS = 3
MIN_CONTRIBUTION = 0.05


def _days(n: float) -> str:
    n = round(n, 1)
    shown = f"{int(n)}" if n == int(n) else f"{n:.1f}".replace(".", ",")
    return f"{shown} jour d'école" if n <= 1 else f"{shown} jours d'école"


def _dec(v: float) -> str:
    """One decimal, French style (2,5)."""
    return f"{v:.1f}".replace(".", ",")


def _pct(v: float) -> str:
    return f"{round(100 * v)} %"


_Describe = Callable[[float, float], tuple[float, float, str]]


def _exp(v: float) -> float:
    return math.expm1(v)


def _shown(digits: int, sentence: Callable[[float, float], str]) -> _Describe:
    """A feature shown as it is, rounded to ``digits``."""
    return lambda v, t: (round(v, digits), round(t, digits), sentence(v, t))


def _counted(digits: int | None, sentence: Callable[[float, float], str]) -> _Describe:
    """A feature stored as log1p of a count (days, sessions): shown as the count, rounded to ``digits``."""
    return lambda v, t: (round(_exp(v), digits), round(_exp(t), digits), sentence(_exp(v), _exp(t)))


#: feature -> (pupil's value, typical value) -> (shown value, shown typical value, sentence)
DESCRIBE: dict[str, _Describe] = {
    "log_since": _counted(1, lambda v, t: f"Aucune activité depuis {_days(v)} (élève typique : {_days(t)})."),
    "since_over_gap": _shown(2, lambda v, t: f"Silence de {_dec(v)} fois son rythme habituel."),
    "log_gap": _counted(1, lambda v, t: f"Travaille d'habitude tous les {_days(v)} (typique : {_days(t)})."),
    "log_days": _counted(None, lambda v, t: f"{round(v)} jours d'activité en tout (typique : {round(t)})."),
    "log_history": _counted(None, lambda v, t: f"Arrivé il y a {_days(v)} seulement."),
    "activity_fast": _shown(
        2, lambda v, t: f"Activité des deux dernières semaines faible ({_dec(v)} jours pondérés, typique : {_dec(t)})."
    ),
    "activity_slow": _shown(
        2, lambda v, t: f"Activité du dernier mois faible ({_dec(v)} jours pondérés, typique : {_dec(t)})."
    ),
    "activity_ratio": _shown(2, lambda v, t: f"Rythme récent à {_pct(v)} de son rythme du mois (typique : {_pct(t)})."),
    "success": _shown(3, lambda v, t: f"Réussite de {_pct(v)} (typique : {_pct(t)})."),
    "success_drop": _shown(3, lambda v, t: f"Réussite récente en baisse de {round(100 * v)} points."),
    "score": _shown(3, lambda v, t: f"Score moyen de {_pct(v)} (typique : {_pct(t)})."),
    "score_drop": _shown(3, lambda v, t: f"Score récent en baisse de {round(100 * v)} points."),
    "log_class_missed": _counted(
        1, lambda v, t: f"La classe a travaillé l'équivalent de {_dec(v)} séances depuis sa dernière activité."
    ),
    "class_relative_days": _shown(
        2, lambda v, t: f"Présent {_pct(min(v, 9.99))} des jours où sa classe travaille (typique : {_pct(t)})."
    ),
    "class_relative_recent": _shown(
        2,
        lambda v, t: (
            f"Ces deux dernières semaines, présent {_pct(min(v, 9.99))} des séances de sa classe (typique : {_pct(t)})."
        ),
    ),
    "log_remaining": _counted(None, lambda v, t: f"{_days(v)} avant la fin de la période."),
    "rapid_share": _shown(
        3, lambda v, t: f"{_pct(v)} de réponses récentes données bien plus vite que le temps habituel."
    ),
    "abandon_share": _shown(3, lambda v, t: f"{_pct(v)} des séances récentes quittées sans aucune réponse."),
    "mastered_recent": _shown(
        2,
        lambda v, t: (
            f"Peu de compétences nouvellement maîtrisées ces dernières semaines ({_dec(v)}, typique : {_dec(t)})."
        ),
    ),
    "ended_early_share": _shown(
        3, lambda v, t: f"{_pct(v)} des séances récentes interrompues avant la fin (typique : {_pct(t)})."
    ),
    "answers_ratio": _shown(
        2,
        lambda v, t: (
            f"Répond à {_pct(v)} de son nombre habituel de questions par jour de travail (typique : {_pct(t)})."
        ),
    ),
    "attendance_trend": _shown(
        2,
        lambda v, t: (
            f"Présence récente aux séances de la classe à {_pct(min(v, 9.99))} de sa présence habituelle "
            f"(typique : {_pct(t)})."
        ),
    ),
    "silence_with_signs": _shown(
        2,
        lambda v, t: (
            "Silence après des séances déjà en difficulté (réponses trop rapides, séances interrompues, "
            f"réussite en baisse) : indice {_dec(v)} (typique : {_dec(t)})."
        ),
    ),
}
assert set(DESCRIBE) == set(FEATURES)


def explain(model: RiskModel, scored: RiskScore, x: list[float], threshold: float) -> tuple[SignalReason, ...]:
    """The risk and its top contributions, as reasons a teacher can read."""
    horizon = _days(model.horizon).replace(" jours", " prochains jours")
    reasons = [
        SignalReason(
            code="dropout_risk",
            value=round(scored.risk, 4),
            threshold=round(threshold, 4),
            text=f"Risque de décrochage estimé à {_pct(scored.risk)} dans les {horizon} "
            f"(seuil de l'alerte : {_pct(threshold)}).",
        )
    ]
    ranked = sorted(range(len(x)), key=lambda j: -scored.contributions[j])
    for j in ranked[:TOP_REASONS]:
        contribution = scored.contributions[j]
        if contribution < MIN_CONTRIBUTION:
            break
        without = model.calibrate(1.0 / (1.0 + math.exp(-(scored.logit - contribution))))
        points = max(0, round(100 * (scored.risk - without)))
        value, typical, text = DESCRIBE[model.features[j]](x[j], model.typical[j])
        reasons.append(
            SignalReason(
                code=f"risk_{model.features[j]}",
                value=float(value),
                threshold=float(typical),
                text=f"{text} (+{points} point{'s' if points > 1 else ''} de risque)",
            )
        )
    return tuple(reasons)


def cleared(model: RiskModel, scored: RiskScore) -> tuple[SignalReason, ...]:
    return (
        SignalReason(
            code="dropout_risk",
            value=round(scored.risk, 4),
            threshold=model.severities.get("low", 0.0),
            text=f"Risque redescendu à {_pct(scored.risk)}.",
        ),
    )
