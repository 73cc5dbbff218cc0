"""The printable A5 flyer of a CPTS: its name, a large QR code of its public registration page,
the address of that page in text, its phone number and a few words in French."""

from __future__ import annotations

import io

import qrcode
from django.http import HttpResponse
from django.urls import reverse
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfgen import canvas

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import Role
from accesmt.common.links import public_url

PRIMARY = HexColor("#0b5394")
INK = HexColor("#1e1e1e")
QR_SIZE = 80 * mm


def qr_image(url: str):
    """The QR code of `url` (error correction M, 4-module quiet zone) as a PIL image."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image()


def _centered_lines(pdf, text: str, *, font: str, size: float, y: float, width: float) -> float:
    page_width = A5[0]
    for line in simpleSplit(text, font, size, width):
        pdf.setFont(font, size)
        pdf.drawCentredString(page_width / 2, y, line)
        y -= size * 1.3
    return y


def flyer_pdf(*, cpts_name: str, phone: str, register_url: str) -> bytes:
    """One A5 portrait page, uncompressed text so that it can be checked and indexed."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A5, pageCompression=0)
    pdf.setTitle(f"Trouver un médecin traitant — {cpts_name}")
    pdf.setAuthor(cpts_name)
    width, height = A5
    text_width = width - 24 * mm
    pdf.setFillColor(PRIMARY)
    pdf.rect(0, height - 38 * mm, width, 38 * mm, stroke=0, fill=1)
    pdf.setFillColor(HexColor("#ffffff"))
    y = _centered_lines(
        pdf,
        "Vous n'avez pas de médecin traitant ?",
        font="Helvetica-Bold",
        size=17,
        y=height - 16 * mm,
        width=text_width,
    )
    _centered_lines(pdf, cpts_name, font="Helvetica", size=13, y=y - 2, width=text_width)
    pdf.setFillColor(INK)
    y = _centered_lines(
        pdf,
        "Inscrivez-vous en 2 minutes : scannez ce code avec l'appareil photo de votre téléphone.",
        font="Helvetica",
        size=12,
        y=height - 50 * mm,
        width=text_width,
    )
    qr_top = y - 4 * mm
    pdf.drawImage(
        ImageReader(qr_image(register_url)),
        (width - QR_SIZE) / 2,
        qr_top - QR_SIZE,
        width=QR_SIZE,
        height=QR_SIZE,
    )
    y = qr_top - QR_SIZE - 6 * mm
    y = _centered_lines(pdf, "ou rendez-vous sur", font="Helvetica", size=11, y=y, width=text_width)
    y = _centered_lines(pdf, register_url, font="Helvetica-Bold", size=11, y=y, width=text_width)
    if phone:
        y = _centered_lines(
            pdf,
            f"Pas d'internet ? Appelez la CPTS au {phone}",
            font="Helvetica-Bold",
            size=13,
            y=y - 4 * mm,
            width=text_width,
        )
    _centered_lines(
        pdf,
        "Pour toute la famille. Les personnes les plus fragiles sont aidées en premier. "
        "Le soir, la nuit et le week-end : 116 117. Urgence vitale : 15 ou 112.",
        font="Helvetica",
        size=9.5,
        y=18 * mm,
        width=text_width,
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@cpts_role_required(Role.COORDINATOR)
def flyer(http_request, cpts_slug: str):
    cpts = http_request.cpts
    register_url = public_url(reverse("intake:register", kwargs={"cpts_slug": cpts.slug}))
    content = flyer_pdf(cpts_name=cpts.name, phone=cpts.phone, register_url=register_url)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="affiche-{cpts.slug}.pdf"'
    return response
