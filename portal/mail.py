"""Email backend of the embedded default: print each message and keep a copy in var/mail/."""

from __future__ import annotations

import threading
from datetime import datetime

from django.conf import settings
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.utils.crypto import get_random_string
from django.utils.text import slugify

_lock = threading.Lock()


class ConsoleAndFileEmailBackend(ConsoleBackend):
    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        mail_dir = settings.MAIL_DIR
        mail_dir.mkdir(parents=True, exist_ok=True)
        with _lock:
            for message in email_messages:
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
                name = f"{stamp}-{slugify(message.subject)[:40]}-{get_random_string(4)}.eml"
                (mail_dir / name).write_bytes(message.message().as_bytes(linesep="\n"))
        return sent
