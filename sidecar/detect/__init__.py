"""Streaming anomaly detectors, their shared baseline kernel, calibration and `Monitor`."""
