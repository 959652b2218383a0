"""Writes of the ingest app; see the modules of this package."""
