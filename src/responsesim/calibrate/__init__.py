"""Calibration of responsesim against real incident data (the package's own copy, ``data/reference``)."""
