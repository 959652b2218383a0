"""Signal receivers of ingest: the kernel's restore."""

from __future__ import annotations

from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from ingest.models import ImportJob


def import_paths_move(*, old_media_root: str, new_media_root: str, **_signal) -> int:
    """Uploads are stored by absolute path: after a restore into another data folder,
    point the imports at where their files are now."""
    old, new = old_media_root.rstrip("/"), new_media_root.rstrip("/")
    if not old or old == new:
        return 0
    return ImportJob.objects.filter(stored_path__startswith=f"{old}/").update(
        stored_path=Concat(Value(f"{new}/"), Substr(F("stored_path"), len(old) + 2)))
