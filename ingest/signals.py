"""What ingest announces; other apps listen, ingest imports none of them."""

from django.dispatch import Signal

# Sent after an import committed its last chunk. Arguments: job_id (int), kind (str).
import_finished = Signal()

# Sent after an undo removed what an import brought. Arguments: job_id (int).
import_undone = Signal()

# Sent inside the removing transaction, before customers are deleted (an undo).
# Arguments: customer_ids (list[int]). Listeners act on their own rows while the
# customers still exist.
customers_removing = Signal()
