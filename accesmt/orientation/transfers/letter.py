"""The printable consent letter (A4 PDF, reportlab) the departing GP's practice gives its
patients: what the plan does, which data are shared with the CPTS, how to refuse. No name of
patient: one letter for all, the practice writes or hands it."""

from __future__ import annotations

import io

from django.template.loader import render_to_string
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

MARGIN = 20 * mm


def render_consent_letter(plan) -> bytes:
    text = render_to_string("orientation/messages/transfer_consent_letter.txt", {"plan": plan})
    subject, _, body = text.strip().partition("\n")
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(subject)
    pdf.setAuthor(plan.cpts.name)
    width, height = A4
    y = height - MARGIN
    for font, size, block in (
        ("Helvetica-Bold", 13, plan.cpts.name),
        ("Helvetica-Bold", 12, subject),
        ("Helvetica", 11, body.strip()),
    ):
        for paragraph in block.split("\n"):
            for line in simpleSplit(paragraph, font, size, width - 2 * MARGIN) or [""]:
                if y < MARGIN:
                    pdf.showPage()
                    y = height - MARGIN
                pdf.setFont(font, size)
                pdf.drawString(MARGIN, y, line)
                y -= size * 1.35
        y -= 6 * mm
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
