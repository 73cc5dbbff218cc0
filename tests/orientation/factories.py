import factory

from accesmt.orientation.models import OrientationSettings, Placement, RecordedBy
from tests.directory.factories import PractitionerFactory
from tests.intake.factories import RequestFactory
from tests.territory.factories import CPTSFactory


class PlacementFactory(factory.django.DjangoModelFactory):
    """A household of the CPTS that found its GP (request closed "mt_found"), told by the
    coordinator."""

    class Meta:
        model = Placement

    cpts = factory.SubFactory(CPTSFactory)
    request = factory.LazyAttribute(
        lambda o: RequestFactory(cpts=o.cpts, closed=True, closed_reason="mt_found")
    )
    practitioner = factory.SubFactory(PractitionerFactory)
    recorded_by = RecordedBy.COORDINATOR


class OrientationSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrientationSettings

    cpts = factory.SubFactory(CPTSFactory)
