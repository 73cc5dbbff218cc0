import factory

from accesmt.accounts.models import Membership, Profession, Role, User
from tests.territory.factories import CPTSFactory

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
