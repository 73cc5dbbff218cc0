import factory

from accesmt.accounts.models import Membership, Profession, Role, User
from accesmt.territory.models import CPTS, Commune, CoordinatesQuality, TerritoryCommune

PASSWORD = "Un-Mot2passe-Solide"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    password = factory.django.Password(PASSWORD)

    class Params:
        platform_admin = factory.Trait(is_platform_admin=True, is_staff=True, is_superuser=True)


class CPTSFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CPTS
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"CPTS Territoire {n}")
    slug = factory.Sequence(lambda n: f"cpts-territoire-{n}")


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune

    insee_code = factory.Sequence(lambda n: f"{62000 + n:05d}")
    name = factory.Sequence(lambda n: f"Commune {n}")
    departement = "62"
    region = "32"
    population = 1000
    latitude = 50.42
    longitude = 2.78
    coordinates_quality = CoordinatesQuality.EXACT


class TerritoryCommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TerritoryCommune

    cpts = factory.SubFactory(CPTSFactory)
    commune = factory.SubFactory(CommuneFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    cpts = factory.SubFactory(CPTSFactory)
    role = Role.COORDINATOR
    profession = factory.Maybe(
        factory.LazyAttribute(lambda m: m.role == Role.REFERRER),
        yes_declaration=Profession.PHARMACIST,
        no_declaration="",
    )
