"""Writes of the segments app: runs (start, execute) and the owner's segment names."""
