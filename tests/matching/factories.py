import factory

from accesmt.matching.models import AllocationRun, MatchingSettings
from tests.territory.factories import CPTSFactory


class AllocationRunFactory(factory.django.DjangoModelFactory):
    """An empty draft run (no lines): the lines come from allocation_run_create or write_lines."""

    class Meta:
        model = AllocationRun

    cpts = factory.SubFactory(CPTSFactory)
    created_by = None


class MatchingSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MatchingSettings

    cpts = factory.SubFactory(CPTSFactory)
