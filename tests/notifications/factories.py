import factory
from django.utils import timezone

from accesmt.notifications.models import Channel, OutboxMessage, Status


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    """A queued message as outbox_enqueue writes it (tests of delivery start from here)."""

    class Meta:
        model = OutboxMessage

    channel = Channel.EMAIL
    recipient = factory.Sequence(lambda n: f"patient{n}@exemple.fr")
    subject = "Votre demande de médecin traitant — référence ABC123"
    body = "Bonjour,\n\nVotre demande a bien été reçue. Référence : ABC123.\n"
    topic = "test.message"
    status = Status.PENDING
    next_attempt_at = factory.LazyFunction(timezone.now)

    class Params:
        sms = factory.Trait(
            channel=Channel.SMS,
            recipient=factory.Sequence(lambda n: f"+336123456{n % 100:02d}"),
            subject="",
            body="CPTS de Liévin : demande reçue, réf. ABC123.",
        )
