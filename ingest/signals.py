"""What ingest announces; other apps listen, ingest imports none of them."""

from django.dispatch import Signal

# Sent after an import committed its last chunk. Arguments: job_id (int), kind (str).
import_finished = Signal()
