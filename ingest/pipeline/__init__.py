"""Pure reading, mapping and cleaning of uploaded order and event files.

Nothing here imports Django: bytes in, typed pandas chunks and frozen
dataclasses out. The loading layer (COPY into staging + upsert) consumes
`read_rows` / `read_events` chunks.
"""
