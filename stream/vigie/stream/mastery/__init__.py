"""Mastery per pupil and skill: Bayesian Knowledge Tracing, updated on each answer.

- ``model``: the pure BKT update (with optional forgetting), O(1) per answer.
- ``state``: a pupil's state (every skill + a bounded window of recent answer ids) and its encoding.
- ``calibrate``: per-skill parameters fitted by EM (Baum-Welch) on the answer history.
- ``evaluate``: next-answer prediction on an answer log, through the same ``state`` functions.
- ``processor`` / ``agents`` / ``params``: the faust wiring (table, processor, parameter feed).
"""
