"""Offline replays: the CLI's `score`, `forecast` and `alerts replay` input and output formats."""
