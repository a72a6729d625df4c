"""The one base class of every refusal the engine and the domain raise.

A refusal means nothing was changed; it carries a message for the person who made the request and,
where the request was a form, the messages per field. Callers (commands today, the web pages
later) map refusals to a response in one place and let anything else be a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _


class Refusal(Exception):
    """A request refused with nothing changed: `message`, and `field_errors` (field → messages)."""

    default_message: Any = _("The request could not be carried out.")

    def __init__(
        self, message: Any = None, *, field_errors: Mapping[str, Iterable[Any]] | None = None
    ) -> None:
        # Kept lazy where it was lazy, so it reads in the language of whoever shows it.
        self.message = message if message is not None and str(message) else self.default_message
        self.field_errors: dict[str, list[str]] = {
            field: [str(m) for m in messages] for field, messages in (field_errors or {}).items()
        }
        super().__init__(str(self.message))

    def __str__(self) -> str:
        details = "; ".join(f"{name or '-'}: {' '.join(texts)}" for name, texts in self.field_errors.items())
        return f"{self.message} {details}" if details else str(self.message)
