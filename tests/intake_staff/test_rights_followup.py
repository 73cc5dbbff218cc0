"""Rights followed through (issue 12, point 4): the CPAM mediator's worklist, their view of a
file, the outcomes they record, what an outcome changes (flag, coverage, priority, the
coordination told, the mark in the queue) and the export of their list — all over HTTP."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import AuditLog
from accesmt.intake.models import RightsOutcome
from accesmt.notifications.models import OutboxMessage
from tests.accounts.factories import MembershipFactory

from .conftest import make_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def mediator(cpts):
    return MembershipFactory(cpts=cpts, role="cpam_mediator").user


@pytest.fixture
def mediator_client(client, mediator):
    client.force_login(mediator)
    return client


@pytest.fixture
def flagged(cpts):
    """A household without coverage asking for help with its rights, with health data that the
    mediator must never see."""
    cpts.email = "coordination@cpts-lievin.fr"
    cpts.save()
    request = make_request(
        cpts, needs_rights_help=True, coverage="none", has_ald=True, last_name="Aidée"
    )
    request.members.update(conditions="Insuffisance cardiaque", nir="")
    request.refresh_from_db()
    return request


def file_url(cpts, request):
    return reverse(
        "intake_staff:rights_file", kwargs={"cpts_slug": cpts.slug, "reference": request.reference}
    )


def worklist(client, cpts):
    return client.get(reverse("intake_staff:rights_help", kwargs={"cpts_slug": cpts.slug}))


def record(client, cpts, request, **data):
    values = {"kind": "contacted", "on": timezone.localdate().isoformat(), "note": ""}
    values.update(data)
    return client.post(file_url(cpts, request), values)


def test_worklist_links_each_household_to_its_file_without_health_data(
    mediator_client, mediator, cpts, flagged
):
    page = worklist(mediator_client, cpts).content.decode()
    assert file_url(cpts, flagged) in page and "aucune" in page  # no outcome yet
    response = mediator_client.get(file_url(cpts, flagged))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Aidée" in body and "12 rue des Lilas" in body and "aucune couverture" in body
    assert "Insuffisance" not in body and "ALD" not in body and "prioritaire" not in body
    assert AuditLog.objects.filter(
        actor=mediator, action="read", object_id=str(flagged.pk), object_type="intake.request"
    ).exists()


def test_contacted_is_recorded_without_clearing_the_need(mediator_client, mediator, cpts, flagged):
    day = timezone.localdate() - datetime.timedelta(days=2)
    response = record(
        mediator_client, cpts, flagged, kind="contacted", on=day.isoformat(), note="Rappel lundi"
    )
    assert response.status_code == 302 and response["Location"] == file_url(cpts, flagged)
    outcome = RightsOutcome.objects.get(request=flagged)
    assert (outcome.kind, outcome.on, outcome.note, outcome.recorded_by) == (
        "contacted",
        day,
        "Rappel lundi",
        mediator,
    )
    flagged.refresh_from_db()
    assert flagged.needs_rights_help and flagged.coverage == "none"
    assert not OutboxMessage.objects.filter(topic="intake.rights_settled").exists()
    assert AuditLog.objects.filter(actor=mediator, action="update", object_id=str(flagged.pk))
    row = worklist(mediator_client, cpts).content.decode()
    assert "personne contactée le" in row  # still on the worklist, with its latest outcome


def test_rights_opened_settle_the_need_and_tell_the_coordination(
    mediator_client, client, cpts, flagged, coordinator
):
    assert flagged.is_priority  # "sans couverture sociale"
    response = record(
        mediator_client,
        cpts,
        flagged,
        kind="rights_opened",
        opened=["opened_css", "opened_vitale"],
        note="Dossier CSS déposé et accepté",
    )
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert not flagged.needs_rights_help and flagged.coverage == "css"
    assert flagged.status == "new"  # still waiting for a GP: nothing closed, nothing moved
    labels = list(flagged.priority_reasons.values_list("label", flat=True))
    assert "Complémentaire santé solidaire (CSS)" in labels
    outcome = RightsOutcome.objects.get(request=flagged)
    assert outcome.opened_labels == ["complémentaire santé solidaire (CSS)", "carte Vitale"]
    [mail] = OutboxMessage.objects.filter(topic="intake.rights_settled")
    assert mail.recipient == "coordination@cpts-lievin.fr" and flagged.reference in mail.body
    text = mail.subject + mail.body
    assert "Aidée" not in text and "CSS" not in text and "Vitale" not in text
    assert (
        reverse(
            "intake_staff:request_detail",
            kwargs={"cpts_slug": cpts.slug, "reference": flagged.reference},
        )
        in mail.body
    )
    # Off the worklist; the file stays open to the mediator, with its history.
    after = worklist(mediator_client, cpts).content.decode()
    assert "Droits ouverts enregistrés" in after  # the message of the redirect
    assert f'data-reference="{flagged.reference}"' not in after
    assert "Dossier CSS déposé" in mediator_client.get(file_url(cpts, flagged)).content.decode()
    # In the coordinator's queue, with its mark.
    client.force_login(coordinator)
    queue = client.get(reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug}))
    page = queue.content.decode()
    assert flagged.reference in page
    assert "droits ouverts le" in page and "data-rights-mark" in page


def test_a_carte_vitale_alone_opens_the_general_scheme_and_may_end_the_priority(
    mediator_client, cpts
):
    request = make_request(cpts, needs_rights_help=True, coverage="none")
    assert request.is_priority
    record(mediator_client, cpts, request, kind="rights_opened", opened=["opened_vitale"])
    request.refresh_from_db()
    assert request.coverage == "regime_general"
    assert not request.is_priority and request.priority_rule_count == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "rights_opened"}, "opened", "Cochez au moins un droit ouvert."),
        (
            {"kind": "rights_opened", "opened": ["opened_css", "opened_ame"]},
            "opened",
            "La CSS et l&#x27;AME ne s&#x27;ouvrent pas pour la même personne",
        ),
        ({"kind": "unreachable", "opened": ["opened_css"]}, "opened", "Ne cochez de droits"),
        ({"kind": ""}, "kind", "Choisissez ce qui a été fait."),
        ({"on": "2999-01-01"}, "on", "La date ne peut pas être dans le futur."),
        ({"on": "pas une date"}, "on", "Indiquez une date valide"),
        ({"note": "x" * 301}, "note", "300 caractères au plus."),
    ],
)
def test_bad_outcome_is_refused_next_to_its_field_and_nothing_changes(
    mediator_client, cpts, flagged, data, field, message
):
    response = record(mediator_client, cpts, flagged, **data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    error_block = body.index(f'id="id_{field}-error"')
    assert message in body[error_block : error_block + 400]
    assert f"id_{field}-error" in body[body.index("aria-describedby") :]
    assert not RightsOutcome.objects.exists()
    flagged.refresh_from_db()
    assert flagged.needs_rights_help


def test_file_is_out_of_reach_outside_the_worklist_and_for_other_roles(
    client, mediator_client, cpts, territory
):
    not_flagged = make_request(cpts)
    closed = make_request(cpts, needs_rights_help=True, closed=True)
    for request in (not_flagged, closed):
        assert mediator_client.get(file_url(cpts, request)).status_code == 404
    assert record(mediator_client, cpts, closed).status_code == 404
    flagged = make_request(cpts, needs_rights_help=True)
    for role in ("referrer", "gp", "observer"):
        client.force_login(MembershipFactory(cpts=cpts, role=role).user)
        assert client.get(file_url(cpts, flagged)).status_code == 404
    other = territory["lens"]
    client.force_login(MembershipFactory(cpts=other, role="cpam_mediator").user)
    url = reverse(
        "intake_staff:rights_file", kwargs={"cpts_slug": other.slug, "reference": flagged.reference}
    )
    assert client.get(url).status_code == 404
    assert not RightsOutcome.objects.exists()


def test_mediator_exports_their_list_as_csv_audited(mediator_client, mediator, cpts, flagged):
    record(mediator_client, cpts, flagged, kind="unreachable")
    other = make_request(cpts, needs_rights_help=True, last_name="Second")
    settled = make_request(cpts, needs_rights_help=True)
    record(mediator_client, cpts, settled, kind="rights_opened", opened=["opened_ame"])
    url = reverse("reporting:rights_export", kwargs={"cpts_slug": cpts.slug})
    assert mediator_client.get(url).status_code == 405
    response = mediator_client.post(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header, *lines = rows
    assert header[0] == "référence" and "dernière suite" in header
    by_reference = {line[0]: line for line in lines}
    assert set(by_reference) == {flagged.reference, other.reference}
    assert by_reference[flagged.reference][header.index("dernière suite")] == (
        "personne injoignable"
    )
    assert "Aidée" in by_reference[flagged.reference][header.index("personne à contacter")]
    assert "Insuffisance" not in response.content.decode("utf-8-sig")
    exported = set(
        AuditLog.objects.filter(actor=mediator, action="export").values_list("object_id", flat=True)
    )
    assert exported == {str(flagged.pk), str(other.pk)}
