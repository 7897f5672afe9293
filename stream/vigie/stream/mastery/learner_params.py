"""The learner model on the wire and on disk: contract records, their assembly, Vigie's defaults.

A model travels as several ``LearnerParameters`` records on the compacted SKILL_PARAMETERS topic (one
per skill and per domain, then the global one, which says how many parts its version has), so a
record stays far below the contract's size limit even with thousands of skills. ``LearnerAssembly``
collects the parts of each version and hands back the model once it is complete: a worker never mixes
the global weights of one fit with the skill weights of another.

``learner_default.json`` (beside this module) is the model a worker uses before any fit is published:
the global weights fitted on the vendored ASSISTments 2015 sample (``bench/data/``), with no skill- or
domain-specific part (its skills are not Vigie's). Regenerate with ``python -m bench.learner_default``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from vigie.core.contract.events import LearnerParameters
from vigie.stream.mastery.learner import CROSSED, FEATURES, N_FEATURES, LearnerModel

DEFAULT_FILE = "learner_default.json"
GLOBAL_KEY = "*"


def record_key(part: LearnerParameters) -> bytes:
    """The compaction key of a record: one per (scope, key), whatever the version."""
    return f"learner:{part.scope}:{part.key}".encode()


def to_contract(model: LearnerModel, n_answers: int, fitted_at: datetime) -> list[LearnerParameters]:
    """The records of a model: domains, skills and items first, the global record (with the count) last."""
    if model.version < 1:
        raise ValueError("a published learner model needs a version >= 1")
    parts: list[LearnerParameters] = []
    for scope, weights, priors in (("domain", model.domain_weights, model.domain_priors),
                                   ("skill", model.skill_weights, model.skill_priors)):  # fmt: skip
        for key in sorted(set(weights) | set(priors)):
            parts.append(LearnerParameters(scope=scope, key=key, params_version=model.version,
                                           weights=list(weights.get(key, (0.0,) * len(CROSSED))),
                                           prior=priors.get(key, model.global_prior), n_answers=n_answers,
                                           fitted_at=fitted_at))  # fmt: skip
    for item, offset in sorted(model.item_offsets.items()):
        parts.append(LearnerParameters(scope="item", key=item, params_version=model.version, weights=[], prior=offset,
                                       n_answers=n_answers, fitted_at=fitted_at))  # fmt: skip
    parts.append(LearnerParameters(scope="global", key=GLOBAL_KEY, params_version=model.version,
                                   weights=list(model.weights), prior=model.global_prior,
                                   feature_names=list(FEATURES), half_life_days=model.half_life_days,
                                   parts=len(parts), n_answers=n_answers, fitted_at=fitted_at))  # fmt: skip
    return parts


class LearnerAssembly:
    """Collects records by version; ``add`` returns the model when its version is complete."""

    def __init__(self) -> None:
        self._versions: dict[int, dict[tuple[str, str], LearnerParameters]] = {}

    def add(self, part: LearnerParameters) -> LearnerModel | None:
        if part.scope == "global" and part.feature_names and tuple(part.feature_names) != FEATURES:
            raise ValueError("its features are not this worker's (a model of another Vigie version)")
        expected = {"global": N_FEATURES, "item": 0}.get(part.scope, len(CROSSED))
        if len(part.weights) != expected:
            raise ValueError(f"{expected} weights expected, not {len(part.weights)}")
        parts = self._versions.setdefault(part.params_version, {})
        parts[(part.scope, part.key)] = part
        head = parts.get(("global", GLOBAL_KEY))
        if head is None or len(parts) - 1 < head.parts:
            return None
        model = _assemble(parts.values())
        for version in [v for v in self._versions if v <= part.params_version]:
            del self._versions[version]
        return model


def _assemble(parts: Iterable[LearnerParameters]) -> LearnerModel:
    by_scope: dict[str, dict[str, LearnerParameters]] = {"global": {}, "domain": {}, "skill": {}, "item": {}}
    for part in parts:
        by_scope[part.scope][part.key] = part
    head = by_scope["global"][GLOBAL_KEY]
    return LearnerModel(
        weights=tuple(head.weights),
        global_prior=head.prior,
        skill_priors={k: p.prior for k, p in by_scope["skill"].items()},
        domain_priors={k: p.prior for k, p in by_scope["domain"].items()},
        skill_weights={k: tuple(p.weights) for k, p in by_scope["skill"].items()},
        domain_weights={k: tuple(p.weights) for k, p in by_scope["domain"].items()},
        item_offsets={k: p.prior for k, p in by_scope["item"].items()},
        half_life_days=head.half_life_days,
        version=head.params_version,
    )


def model_to_json(model: LearnerModel) -> dict[str, Any]:
    return {
        "features": list(FEATURES),
        "crossed": list(CROSSED),
        "version": model.version,
        "weights": list(model.weights),
        "global_prior": model.global_prior,
        "half_life_days": model.half_life_days,
        "skill_priors": dict(model.skill_priors),
        "domain_priors": dict(model.domain_priors),
        "skill_weights": {k: list(v) for k, v in model.skill_weights.items()},
        "domain_weights": {k: list(v) for k, v in model.domain_weights.items()},
        "item_offsets": dict(model.item_offsets),
    }


def model_from_json(doc: dict[str, Any]) -> LearnerModel:
    if tuple(doc.get("features", ())) != FEATURES:
        raise ValueError("the file's features are not this Vigie version's")
    return LearnerModel(
        weights=tuple(doc["weights"]),
        global_prior=float(doc["global_prior"]),
        skill_priors=doc.get("skill_priors", {}),
        domain_priors=doc.get("domain_priors", {}),
        skill_weights={k: tuple(v) for k, v in doc.get("skill_weights", {}).items()},
        domain_weights={k: tuple(v) for k, v in doc.get("domain_weights", {}).items()},
        item_offsets=doc.get("item_offsets", {}),
        half_life_days=doc.get("half_life_days"),
        version=int(doc.get("version", 0)),
    )


def save_model(model: LearnerModel, path: Path) -> None:
    path.write_text(json.dumps(model_to_json(model), indent=1, sort_keys=True) + "\n", encoding="utf-8")


@cache
def default_learner_model() -> LearnerModel:
    """Vigie's default learner model (version 0): global weights only."""
    text = resources.files("vigie.stream.mastery").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
    return model_from_json(json.loads(text))
