"""Benchmarks: commands that print figures (`python -m bench.<name>`)."""
