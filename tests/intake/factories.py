import datetime

import factory
from django.utils import timezone

from accesmt.intake.models import (
    Channel,
    Coverage,
    CpamList,
    HomeVisits,
    HouseholdMember,
    Reason,
    Request,
    Status,
)
from tests.territory.factories import CPTSFactory, TerritoryCommuneFactory


class CpamListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CpamList

    cpts = factory.SubFactory(CPTSFactory)
    campaign_name = "Plan ALD 2026"
    list_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=40))
    opt_out_days = 30
    opt_out_ends_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))
    source = CpamList.Source.UPLOAD


class RequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Request

    cpts = factory.SubFactory(CPTSFactory)
    channel = Channel.ONLINE
    status = Status.NEW
    address = "12 rue des Lilas"
    commune = factory.LazyAttribute(lambda o: TerritoryCommuneFactory(cpts=o.cpts).commune)
    postcode = "62800"
    phone = "+33612345678"
    email = factory.Sequence(lambda n: f"foyer{n}@exemple.fr")
    coverage = Coverage.GENERAL
    reason = Reason.RETIRED
    consent_processing = True
    consent_sharing = True
    consent_text_version = "2025-01"
    consented_at = factory.LazyFunction(timezone.now)

    class Params:
        closed = factory.Trait(
            status=Status.CLOSED,
            closed_reason="withdrawn",
            closed_at=factory.LazyFunction(timezone.now),
        )
        waiting = factory.Trait(status=Status.WAITING)
        # A person of a CPAM list within the opt-out period (no consent: the opt-out basis).
        from_cpam_list = factory.Trait(
            channel=Channel.CPAM_LIST,
            status=Status.OPT_OUT_PENDING,
            cpam_list=factory.SubFactory(CpamListFactory, cpts=factory.SelfAttribute("..cpts")),
            consent_processing=False,
            consent_sharing=False,
            consent_text_version="cpam-liste-2026-12",
        )


class HouseholdMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseholdMember

    request = factory.SubFactory(RequestFactory)
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Durand{n}")
    birth_date = datetime.date(1980, 5, 17)
    home_visits = HomeVisits.NEVER
    is_contact_person = True
