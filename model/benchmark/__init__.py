"""Speed of the CNN on this CPU: `python -m model.benchmark --help`."""
