"""Speed and memory figures: commands that print numbers (``python -m bench.<name>``), not timed tests."""
