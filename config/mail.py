"""Development email: one .eml file per email under var/mail."""

import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from django.core.mail import EmailMessage
from django.core.mail.backends import filebased


class EmlFileBackend(filebased.EmailBackend):
    """Writes each email to its own ``<time>-<random>.eml`` file in EMAIL_FILE_PATH, which any mail client
    opens as it is, and which sort in the order they were sent.

    Django's file backend appends every email of one connection to a single .log file, and the survey
    sender uses one connection for a whole batch: a campaign became one file of hundreds of emails.
    """

    def open(self) -> bool:
        return False  # nothing to hold open: each email gets its own file

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        with self._lock:
            for message in email_messages:
                try:
                    self._write(message)
                except OSError:
                    if not self.fail_silently:
                        raise
                else:
                    sent += 1
        return sent

    def _write(self, message: EmailMessage) -> Path:
        stamp = datetime.now(UTC).astimezone().strftime("%Y%m%d-%H%M%S-%f")
        path = Path(self.file_path) / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        # Written aside and renamed, so whoever watches the folder never opens half an email.
        partial = path.with_suffix(".eml.part")
        partial.write_bytes(message.message().as_bytes())
        os.replace(partial, path)
        return path
