"""Dropout and disengagement signals: early, explainable, calendar-aware.

- ``rules``: thresholds and the pure functions that turn a pupil's numbers into a severity and
  readable reasons (French, with the numbers behind them).
- ``state``: a pupil's state (rhythm, recent answers, skills, sessions, open signals), its compact stored
  form (bytes), and how each event updates it.
- ``engine``: the processor's logic without Kafka: applies events in order, keeps per-partition
  event-time watermarks, scans inactivity at day boundaries, emits ``SignalChanged`` on change only.
- ``agents``: the faust wiring (table, pipeline processor, timer).
- ``evaluation``: ``vigie evaluate signals`` (simulator with known drop-outs, in-process).
"""
