"""Calibration of responsesim against real incident data (read in place from ``shared/reference``)."""
