"""A day of the service with every logger at DEBUG: registration (refused, then accepted, the
address geocoded by a local BAN), the follow-up page by its token, bad tokens and unknown pages
(404 logged by django.request), a refused CSRF, a server error quoting personal data, the GP's
answer link, the person's choice, the coordination's pages, API calls with a bad key, and the
worker sending the e-mails to a local SMTP server. Then no name, address, NIR, phone (in any
writing), e-mail or token may appear in what the configured handler wrote, nor in any record's
message, arguments or exception text."""

import io
import logging
import re
import uuid

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accesmt.intake.models import Request
from accesmt.intake.services import followup_token
from accesmt.orientation.services import solicitation_token
from tests.intake.conftest import territory  # noqa: F401 - the intake test territory fixture
from tests.servers import BanResponder, LocalHTTPServer
from tests.worlds import Orientation

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.common.log_urls")]

NIR = "247036251012345"
NIR_SECOND = "152016249804562"
BAD_NIR = "247036251012399"
PHONE = "06 12 34 56 78"
EMAIL = "josiane.lefebvre@exemple.fr"
API_KEY = "amt_0badc0de_" + "Zq9" * 14


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def captured():
    """Every logger at DEBUG; the configured root handler writes into a buffer, and the records
    it has seen (after its filter) are kept. Except the test SMTP server's own log ("mail.log",
    the receiving side, which `smtp_sink` also keeps at WARNING), the recipient's business."""
    root = logging.getLogger()
    [console] = [h for h in root.handlers if h.get_name() == "console"]
    loggers = [root] + [
        lg
        for name, lg in logging.Logger.manager.loggerDict.items()
        if isinstance(lg, logging.Logger) and not name.startswith("mail.")
    ]
    levels = {lg: lg.level for lg in loggers}
    buffer = io.StringIO()
    old_stream = console.setStream(buffer)
    collect = Collect()
    root.addHandler(collect)  # after the console handler: sees the records as it left them
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        yield buffer, collect.records
    finally:
        root.removeHandler(collect)
        console.setStream(old_stream)
        for lg, level in levels.items():
            lg.setLevel(level)


def registration(**changes):
    data = {
        "submission_key": str(uuid.uuid4()),
        "phone": PHONE,
        "email": EMAIL,
        "address": "14 Rue Édouard Vaillant",
        "postcode": "62800",
        "commune_name": "Liévin",
        "reason": "mt_retired",
        "coverage": "regime_general",
        "consent_processing": "on",
        "consent_sharing": "on",
        "website": "",
        "membres-TOTAL_FORMS": "2",
        "membres-INITIAL_FORMS": "0",
        "membres-MIN_NUM_FORMS": "1",
        "membres-MAX_NUM_FORMS": "12",
        "membres-0-first_name": "Josiane",
        "membres-0-last_name": "Lefebvre",
        "membres-0-birth_date": "1947-03-12",
        "membres-0-sex": "F",
        "membres-0-nir": "2 47 03 62 510 123 45",
        "membres-0-home_visits": "never",
        "membres-1-first_name": "Marcel",
        "membres-1-last_name": "Vandercruyssen",
        "membres-1-birth_date": "1952-01-20",
        "membres-1-sex": "M",
        "membres-1-nir": NIR_SECOND,
        "membres-1-home_visits": "never",
    }
    data.update(changes)
    return data


def test_a_full_run_logs_no_personal_data_nor_token(
    client,
    territory,  # noqa: F811
    smtp_server,
    settings,
    captured,
):
    buffer, records = captured
    settings.PUBLIC_BASE_URL = "https://accesmt.example"
    ban = LocalHTTPServer(BanResponder()).start()
    settings.GEOCODER_URL = ban.url
    try:
        register = reverse("intake:register", kwargs={"cpts_slug": territory["lievin"].slug})
        client.get(register)
        refused = client.post(
            register,
            registration(**{"membres-0-nir": BAD_NIR, "email": "josiane.lefebvre@", "phone": "06"}),
        )
        assert refused.status_code == 200 and not Request.objects.exists()
        assert client.post(register, registration(), follow=True).status_code == 200
    finally:
        ban.stop()
    request = Request.objects.get()
    assert request.latitude and ban.requests, "the address went to the local BAN"

    token = followup_token(request)
    tampered = token[:-4] + "abcd"
    assert client.get(f"/suivi/{token}/").status_code == 200
    assert client.get(f"/suivi/{tampered}/?email={EMAIL}").status_code == 404
    assert client.get(f"/suivi/{tampered}/choix/").status_code == 404
    assert client.get(f"/{EMAIL}/{NIR}/").status_code == 404
    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.post(f"/suivi/{token}/", {"retrait-confirm": "on"}).status_code == 403
    broken = Client(raise_request_exception=False)
    assert broken.get(f"/test-erreur/500/?tel={PHONE}").status_code == 500

    o = Orientation()
    [solicitation, *_] = o.ask(o.gps[0])
    answer = reverse("orientation:answer", kwargs={"token": solicitation_token(solicitation)})
    assert client.get(answer).status_code == 200
    assert client.post(answer, {"choice": "accept"}).status_code == 302
    choice = reverse("orientation:patient_choice", kwargs={"token": followup_token(o.request)})
    assert client.get(choice).status_code == 200
    staff = Client()
    staff.force_login(o.coordinator)
    slug, reference = o.cpts.slug, o.request.reference
    for url in (
        reverse("intake_staff:queue", kwargs={"cpts_slug": slug}),
        reverse("orientation:request", kwargs={"cpts_slug": slug, "reference": reference}),
    ):
        assert staff.get(url).status_code == 200
    assert staff.get(f"/espace/{slug}/demandes/?q=Secret-Dupont").status_code == 200

    bearer = {"HTTP_AUTHORIZATION": f"Bearer {API_KEY}"}
    assert client.get("/api/v1/indicateurs", **bearer).status_code == 401
    assert client.get(f"/api/v1/indicateurs?key={API_KEY}").status_code == 401

    call_command("run_worker", "--once", stdout=io.StringIO())
    assert smtp_server.messages, "the worker sent the acknowledgments"
    delivered = " ".join(m["To"] for m in smtp_server.messages)
    assert EMAIL in delivered and "foyer@exemple.fr" in delivered

    output = buffer.getvalue()
    # What must be there: the capture works, and each kind of line was written.
    for expected in (
        "Not Found: /suivi/<token>/",
        "Not Found: /suivi/<token>/choix/",
        "Not Found: /…",
        "Forbidden (CSRF cookie not set.): /suivi/<token>/",
        "Internal Server Error: /test-erreur/500/",
        "[email] [phone] [nir]",
        "geocoding outcome=found",
        "intake: request",
        "outbox :",
        "SMS (journal seulement)",
    ):
        assert expected in output, expected

    secrets = [
        # names, also of the orientation world's household and GP
        "Josiane", "Lefebvre", "Marcel", "Vandercruyssen", "Jeanne", "Secret-Dupont", "MEDECIN1",
        # addresses
        "Vaillant", "Édouard", "%C3%89douard", "rue du Marché", "rue des Lilas",
        # NIR, phones, e-mails in every writing
        NIR, NIR_SECOND, BAD_NIR, "2 47 03 62 510 123 45", "2470362510123",
        "0612345678", "06 12 34 56 78", "+33612345678", "612345678",
        EMAIL, "josiane.lefebvre", "foyer@exemple.fr", "dr1@exemple.fr",
        # tokens and keys
        token, tampered, token.split(":")[-1], solicitation_token(solicitation),
        followup_token(o.request), API_KEY, API_KEY[-20:],
    ]  # fmt: skip
    texts = {"output": output}
    for index, record in enumerate(records):
        texts[f"record {index} ({record.name})"] = " ".join(
            [str(record.msg), repr(record.args), record.exc_text or "", repr(record.exc_info)]
        )
    assert len(records) > 20
    for where, text in texts.items():
        compact = re.sub(r"[ .\-]", "", text)
        for secret in secrets:
            assert secret not in text, f"{secret!r} in {where}"
        for digits in (NIR, NIR_SECOND, "0612345678", "612345678"):
            assert digits not in compact, f"{digits!r} (written with separators) in {where}"


def test_a_geocoder_failure_is_logged_without_its_text(client, territory, monkeypatch, caplog):  # noqa: F811
    from accesmt.territory import geocoding

    def broken(**kwargs):
        raise ValueError(f"adresse refusée : {kwargs['street']}")

    monkeypatch.setattr(geocoding, "geocode_address", broken)
    register = reverse("intake:register", kwargs={"cpts_slug": territory["lievin"].slug})
    with caplog.at_level(logging.DEBUG):
        assert client.post(register, registration(), follow=True).status_code == 200
    assert Request.objects.get().geocode_message.startswith("Géocodage indisponible")
    [line] = [r for r in caplog.records if r.name == "accesmt.intake.services" and r.levelno >= 40]
    assert line.getMessage() == "intake: geocoding failed (ValueError), commune centre used"
    assert not line.exc_info
