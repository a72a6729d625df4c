"""Report templates written in a test, beside the project's own."""

from django.conf import settings
from django.test import override_settings


def with_template(name: str, text: str):
    """Settings under which `name` is the template `text` (the project's templates beside it)."""
    return override_settings(
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [settings.BASE_DIR / "templates"],
                "OPTIONS": {
                    "loaders": [
                        ("django.template.loaders.locmem.Loader", {name: text}),
                        "django.template.loaders.filesystem.Loader",
                    ]
                },
            }
        ]
    )
