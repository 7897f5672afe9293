"""Cohort simulator: realistic classes of pupils with a known ground truth."""

from vigie.producers.simulator.cohort import CohortConfig, simulate

__all__ = ["CohortConfig", "simulate"]
