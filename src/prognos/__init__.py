"""prognos: connect sold equipment, predict its failures, plan replacements into customers' calendars."""

__version__ = "0.1.0"
