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

# Sent inside the erasure's transaction, before the customer row is anonymised, so
# other apps can forget what they hold about the person in the same commit.
# Arguments: customer_id (int), emails (list of normalised addresses the person had).
customer_erasing = Signal()

# Sent to collect the parts of a customer's data archive that other apps hold.
# Argument: customer_id (int). Each receiver returns a list of `ArchivePart`s
# (`ingest.services.privacy`), whose rows are read lazily while the archive streams.
customer_archive_requested = Signal()
