"""The CPAM mediator's list and the printable flyer."""

import io

import pytest
import qrcode
from django.urls import reverse
from pypdf import PdfReader
from reportlab.lib.pagesizes import A5

from accesmt.accounts.models import AuditLog
from accesmt.intake.views.flyer import qr_image
from tests.accounts.factories import MembershipFactory

from .conftest import make_request

pytestmark = pytest.mark.django_db


def test_mediator_sees_only_rights_help_requests_with_what_they_need(client, cpts):
    mediator = MembershipFactory(cpts=cpts, role="cpam_mediator").user
    wanted = make_request(
        cpts, needs_rights_help=True, coverage="none", has_ald=True, last_name="Aidé"
    )
    wanted.members.update(conditions="Diabète de type 2")
    not_flagged = make_request(cpts)
    closed = make_request(cpts, needs_rights_help=True, closed=True)
    client.force_login(mediator)
    response = client.get(reverse("intake_staff:rights_help", kwargs={"cpts_slug": cpts.slug}))
    page = response.content.decode()
    assert response.status_code == 200
    assert wanted.reference in page and "Aidé" in page and "06 12 34 56 78" in page
    assert "aucune couverture" in page and wanted.email in page
    assert not_flagged.reference not in page and closed.reference not in page
    assert "Diabète" not in page and "ALD" not in page  # no health data
    assert AuditLog.objects.filter(actor=mediator, action="read", object_id=str(wanted.pk)).exists()
    assert not AuditLog.objects.filter(object_id=str(not_flagged.pk)).exists()


def test_flyer_is_an_a5_pdf_with_the_qr_code_of_the_registration_page(
    coordinator_client, cpts, settings
):
    settings.PUBLIC_BASE_URL = "https://accesmt.example.org/"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example"]
    response = coordinator_client.get(
        reverse("intake_staff:flyer", kwargs={"cpts_slug": cpts.slug}), HTTP_HOST="evil.example"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    content = response.content
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width, 1), round(height, 1)) == (round(A5[0], 1), round(A5[1], 1))
    # PUBLIC_BASE_URL, never the Host header the client sent.
    register_url = "https://accesmt.example.org" + reverse(
        "intake:register", kwargs={"cpts_slug": cpts.slug}
    )
    text = page.extract_text()
    assert register_url in text.replace("\n", "")
    assert cpts.name in text and "03 21 00 00 00" in text
    # The embedded image is exactly the QR code of that URL.
    images = page.images
    assert len(images) == 1
    embedded = images[0].image.convert("L")
    expected = qr_image(register_url).convert("L")
    assert embedded.size == expected.size
    assert embedded.tobytes() == expected.tobytes()
    other = qr_image(register_url + "x").convert("L")
    assert other.tobytes() != embedded.tobytes()


def test_qr_code_holds_the_url():
    """The QR payload, read back from the matrix that qrcode builds."""
    url = "https://accesmt.example.org/lievin/inscription/"
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(url)
    code.make(fit=True)
    assert code.data_list[0].data == url.encode()
    assert qr_image(url).size[0] >= 25 * 10


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("coordinator", True),
        ("referrer", False),
        ("gp", False),
        ("cpam_mediator", False),
        ("observer", False),
    ],
)
def test_flyer_tenant_and_roles(client, territory, role, allowed):
    cpts, other = territory["lievin"], territory["lens"]
    client.force_login(MembershipFactory(cpts=cpts, role=role).user)
    own = client.get(reverse("intake_staff:flyer", kwargs={"cpts_slug": cpts.slug}))
    assert own.status_code == (200 if allowed else 404)
    foreign = client.get(reverse("intake_staff:flyer", kwargs={"cpts_slug": other.slug}))
    assert foreign.status_code == 404


def test_flyer_needs_login(client, cpts):
    response = client.get(reverse("intake_staff:flyer", kwargs={"cpts_slug": cpts.slug}))
    assert response.status_code == 302 and "/compte/" in response["Location"]


@pytest.mark.parametrize("rows", [2, 20])
def test_mediator_list_audits_each_row_without_a_query_per_row(
    client, cpts, rows, django_assert_num_queries
):
    mediator = MembershipFactory(cpts=cpts, role="cpam_mediator").user
    for _ in range(rows):
        make_request(cpts, needs_rights_help=True)
    client.force_login(mediator)
    # session + user + membership, COUNT, page, members prefetch, the audit lines (role, INSERT)
    with django_assert_num_queries(MEDIATOR_LIST_QUERIES):
        client.get(reverse("intake_staff:rights_help", kwargs={"cpts_slug": cpts.slug}))
    assert AuditLog.objects.filter(actor=mediator, action="read").count() == rows


MEDIATOR_LIST_QUERIES = 8
