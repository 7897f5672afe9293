"""Cohort simulator: realistic classes of pupils on several platforms, with a known ground truth.

    from vigie.producers.simulator import SimulationConfig, Simulation
    sim = Simulation(SimulationConfig(academies=("lyon",), days=60, seed=42), settings.privacy)
    for event in sim.events(): ...   # contract events, sorted by occurred_at, deterministic for the seed
    sim.truth                          # GroundTruth: pupils (drop-out dates), knows_after, final_knows

The model (latent knowledge, forgetting, disengagement) is described in ``learner`` and ``simulation``.
"""

from vigie.producers.simulator.config import PLATFORM_LEVELS, SimulationConfig
from vigie.producers.simulator.learner import SkillTruth
from vigie.producers.simulator.simulation import SimEvent, Simulation
from vigie.producers.simulator.truth import GroundTruth, PupilTruth

__all__ = ["PLATFORM_LEVELS", "GroundTruth", "PupilTruth", "SimEvent", "Simulation", "SimulationConfig", "SkillTruth"]
