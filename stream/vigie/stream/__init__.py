"""faust-streaming processors: pupil-keyed state, mastery and dropout signals in real time."""
