"""Message texts (e-mail subjects and bodies, SMS, letters) live in templates under
`accesmt/<app>/templates/<app>/messages/*.txt`, rendered here without HTML escaping. A file's last
newline is not part of the text (a body that must end with a newline ends with an empty line);
a subject is one line. Services pass a context, never French prose."""

from __future__ import annotations

from django.template import Context
from django.template.loader import get_template


def render_text(template_name: str, context: dict) -> str:
    text = get_template(template_name).template.render(Context(context, autoescape=False))
    return text[:-1] if text.endswith("\n") else text


def render_message(
    body_template: str, context: dict, *, subject_template: str | None = None
) -> tuple[str, str]:
    """(subject, body): "intake/messages/acknowledgment_email.txt" with the subject of
    `subject_template` ("" without one)."""
    subject = render_text(subject_template, context).strip() if subject_template else ""
    return subject, render_text(body_template, context)
