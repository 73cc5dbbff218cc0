import datetime

import factory
from django.utils import timezone

from accesmt.directory.models import (
    Accepting,
    AvailabilityDeclaration,
    DeclarationSource,
    GeocodeSource,
    Listing,
    PracticeSite,
    PracticeType,
    Practitioner,
    Source,
    default_valid_until,
)
from accesmt.territory.models import TerritoryCommune
from tests.territory.factories import CommuneFactory, CPTSFactory

__all__ = [
    "AvailabilityDeclarationFactory",
    "CPTSFactory",
    "CommuneFactory",
    "PracticeSiteFactory",
    "PractitionerFactory",
    "territory_with",
]


def territory_with(cpts, *communes):
    for commune in communes:
        TerritoryCommune.objects.create(cpts=cpts, commune=commune)
    return cpts


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practitioner

    rpps = factory.Sequence(lambda n: f"{10000000000 + n:011d}")
    civility = "DR"
    first_name = factory.Sequence(lambda n: f"Prénom{n}")
    last_name = factory.Sequence(lambda n: f"NOM{n}")
    specialty_codes = factory.LazyFunction(lambda: ["SM54"])
    source = Source.RPPS
    imported_at = factory.LazyFunction(timezone.now)

    class Params:
        manual = factory.Trait(source=Source.MANUAL, rpps=None, imported_at=None)
        gone = factory.Trait(is_gone=True, gone_since=factory.LazyFunction(timezone.now))


class PracticeSiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PracticeSite

    practitioner = factory.SubFactory(PractitionerFactory)
    site_key = factory.Sequence(lambda n: f"key{n}")
    label = "Cabinet médical"
    address_line2 = "1 RUE DE LA GARE"
    commune = factory.SubFactory(CommuneFactory)
    postcode = "62800"
    commune_name = factory.LazyAttribute(lambda o: o.commune.name.upper() if o.commune else "")
    latitude = factory.LazyAttribute(lambda o: o.commune.latitude if o.commune else None)
    longitude = factory.LazyAttribute(lambda o: o.commune.longitude if o.commune else None)
    geocode_source = factory.LazyAttribute(
        lambda o: GeocodeSource.COMMUNE_CENTRE if o.latitude is not None else GeocodeSource.NONE
    )
    practice_type = PracticeType.GROUP
    source = Source.RPPS


class AvailabilityDeclarationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AvailabilityDeclaration
        skip_postgeneration_save = True

    practitioner = factory.SubFactory(PractitionerFactory)
    cpts = factory.SubFactory(CPTSFactory)
    declared_at = factory.LazyFunction(timezone.now)
    valid_until = factory.LazyAttribute(lambda o: default_valid_until(o.declared_at))
    accepting = Accepting.YES
    monthly_capacity = 4
    listing = Listing.PUBLIC
    source = DeclarationSource.SURVEY

    class Params:
        expired = factory.Trait(
            declared_at=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=200))
        )
        refusing = factory.Trait(accepting=Accepting.NO, monthly_capacity=None)
