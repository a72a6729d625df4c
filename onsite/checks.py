"""The domain's system checks: what its reports need from the machine."""

from django.core.checks import Warning, register

from onsite.reports.pdf import CJK_FAMILIES, installed_cjk_family


@register()
def check_cjk_font(app_configs, **kwargs) -> list[Warning]:
    """The PDF reports set Chinese in a CJK font from fontconfig: without one, every Chinese
    character prints as an empty box."""
    if installed_cjk_family() is not None:
        return []
    return [
        Warning(
            "No CJK font is installed: the PDF reports would print Chinese as empty boxes.",
            hint=f"Install one of {', '.join(CJK_FAMILIES)} (Debian: `make system-packages` "
            "installs fonts-noto-cjk).",
            id="onsite.W001",
        )
    ]
