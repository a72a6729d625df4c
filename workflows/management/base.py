"""The base of the project's management commands: they speak the site's language (settings
`LANGUAGE_CODE`, Simplified Chinese) unless `--language` names another of `LANGUAGES`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext_lazy


class LocalisedCommand(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help=gettext_lazy("the language of the output (default: the site's language)"),
        )
        return parser

    def execute(self, *args: Any, **options: Any) -> Any:
        # Not the active language: a caller (a test, a shell) may have switched it, the site's is meant.
        language = options.get("language") or settings.LANGUAGE_CODE
        with translation.override(language):
            try:
                return super().execute(*args, **options)
            except CommandError as exc:
                # Django prints the error once execute() has returned, outside this language:
                # render lazy messages now.
                exc.args = tuple(str(arg) for arg in exc.args)
                raise
