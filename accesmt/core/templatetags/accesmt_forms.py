"""`{% include "core/_field.html" with field=form.x %}` renders an accessible field; the
`accessible` filter adds aria-describedby (hint and errors) and aria-invalid to the widget."""

from django import template

register = template.Library()


@register.filter
def accessible(field):
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}-hint")
    if field.errors:
        described_by.append(f"{field.auto_id}-error")
    attrs = {}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)
