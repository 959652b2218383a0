"""Profiler: customer profiles and measured email campaigns for a small shop."""

__version__ = "0.1.0"
