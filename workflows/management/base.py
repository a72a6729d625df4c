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
        # argparse wants text, not lazy translations, for the description.
        self.help = str(self.help)
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--language",
            choices=languages(),
            help=gettext_lazy("the language of the output (default: the site's language)"),
        )
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        # From the command line, --help and the errors Django prints come out in that language too.
        with translation.override(language_in(argv[2:]) or settings.LANGUAGE_CODE):
            super().run_from_argv(argv)

    def execute(self, *args: Any, **options: Any) -> Any:
        # Not the active language: a caller (a test, a shell) may have switched it, the site's is meant.
        with translation.override(options.get("language") or settings.LANGUAGE_CODE):
            try:
                return super().execute(*args, **options)
            except CommandError as exc:
                # Django prints the error once execute() has returned: render lazy messages now.
                exc.args = tuple(str(arg) for arg in exc.args)
                raise


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def language_in(arguments: list[str]) -> str | None:
    """The language `--language` names among command-line arguments, if it is one of the site's."""
    for index, argument in enumerate(arguments):
        if argument == "--language" and index + 1 < len(arguments):
            value = arguments[index + 1]
        elif argument.startswith("--language="):
            value = argument.partition("=")[2]
        else:
            continue
        return value if value in languages() else None
    return None
