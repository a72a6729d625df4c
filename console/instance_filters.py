"""The instance search's filters, read from the address (GET): each field is optional, a value that
does not parse is reported at its field and left out of the search rather than refusing the page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from workflows.facets import facets
from workflows.models import ProcessInstance

# A business key ending with this matches every key that begins with the rest.
PREFIX_MARK = "*"


class InstanceFilterForm(forms.Form):
    process = forms.ChoiceField(label=_("Process"), required=False)
    version = forms.IntegerField(label=_("Version"), required=False, min_value=1)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *ProcessInstance.Status.choices],
    )
    business_key = forms.CharField(
        label=_("Business key"),
        required=False,
        max_length=255,
        help_text=_("Exact, or ending with * for every key that begins so."),
    )
    started_from = forms.DateField(label=_("Started from"), required=False)
    started_to = forms.DateField(label=_("Started until"), required=False)

    def __init__(self, data: Any, *, processes: list[tuple[str, str]]) -> None:
        super().__init__(data)
        self.fields["process"].choices = [("", _("Any process")), *processes]
        # The domain's facets (region, team...): one choice each, named by the facet.
        self.facet_names = []
        for facet in facets():
            self.fields[facet.name] = forms.ChoiceField(
                label=facet.label, required=False, choices=[("", _("Any")), *facet.choices()]
            )
            self.facet_names.append(facet.name)
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)
        for name in ("started_from", "started_to"):
            self.fields[name].widget.input_type = "date"

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("started_from"), cleaned.get("started_to")
        if start and end and end < start:
            self.add_error("started_to", _("The end comes before the start."))
        return cleaned

    def search(self) -> dict[str, Any]:
        """The keyword arguments of `console.selectors.instances.search_instances` from the fields
        that are valid (an invalid one filters nothing)."""
        self.is_valid()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"
        values = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        key = (values.get("business_key") or "").strip()
        prefix = key.endswith(PREFIX_MARK)
        return {
            "process_id": values.get("process") or "",
            "version": values.get("version"),
            "status": values.get("status") or "",
            "business_key": key.rstrip(PREFIX_MARK) if prefix else key,
            "key_prefix": prefix,
            "facets": {name: values.get(name) or "" for name in self.facet_names},
            "started_from": values.get("started_from"),
            "started_to": values.get("started_to"),
        }

    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)
