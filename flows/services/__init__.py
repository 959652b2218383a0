"""Writes of the flows app: flows (flows.py), entries (triggers.py), sends (sending.py)."""
