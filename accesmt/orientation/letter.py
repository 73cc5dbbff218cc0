"""The printable letter (A4 PDF) for a person with neither e-mail nor mobile phone: the GPs who
accepted to take them, how to book, and how to tell the coordination their choice."""

from __future__ import annotations

import io

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from accesmt.common.formats import long_date
from accesmt.intake.models import Request

from .services import offer_letter

MARGIN = 20 * mm


def render_message_letter(request: Request, *, subject: str, body: str, when=None) -> bytes:
    """One A4 letter: the CPTS, the contact person and postal address of the request, the date,
    `subject` in bold and `body` (plain text, paragraphs separated by blank lines)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"{subject}")
    pdf.setAuthor(request.cpts.name)
    width, height = A4
    y = height - MARGIN

    def write(text: str, *, font: str = "Helvetica", size: float = 11, gap: float = 4) -> None:
        nonlocal y
        for paragraph in text.split("\n"):
            for line in simpleSplit(paragraph, font, size, width - 2 * MARGIN) or [""]:
                if y < MARGIN:
                    pdf.showPage()
                    y = height - MARGIN
                pdf.setFont(font, size)
                pdf.drawString(MARGIN, y, line)
                y -= size * 1.35
        y -= gap

    contact = request.members.filter(is_contact_person=True).first() or request.members.first()
    write(request.cpts.name, font="Helvetica-Bold", size=13)
    if request.cpts.phone:
        write(f"Tél. {request.cpts.phone}", size=10)
    y -= 10 * mm
    if contact is not None:
        write(f"{contact.first_name} {contact.last_name}", gap=0)
    write(f"{request.address}\n{request.postcode} {request.commune.name}", gap=12 * mm)
    write(f"Le {long_date(timezone.localdate(when))}", gap=8 * mm)
    write(subject, font="Helvetica-Bold")
    write(body)
    write(f"La coordination de la {request.cpts.name}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def render_letter(request: Request, accepted) -> bytes:
    """The letter listing the GPs who accepted (printable from the request page at any time)."""
    subject, body = offer_letter(request, accepted)
    return render_message_letter(request, subject=subject, body=body)
