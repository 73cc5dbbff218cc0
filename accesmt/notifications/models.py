"""The outbox: messages written in the same transaction as the change they announce, delivered
later by the worker (`manage.py run_worker`). See docs/decisions/0005-outbox.md.

A "letter" is the message of a household with neither e-mail nor mobile: the worker never
takes it; the coordination prints it ("Courriers à imprimer") and marks it sent."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accesmt.accounts.access import TenantQuerySet

from .masking import mask_recipient


class Channel(models.TextChoices):
    EMAIL = "email", "e-mail"
    SMS = "sms", "SMS"
    LETTER = "letter", "courrier postal"


class Status(models.TextChoices):
    PENDING = "pending", "en attente"
    SENDING = "sending", "en cours d'envoi"
    SENT = "sent", "envoyé"
    FAILED = "failed", "non distribuable"


# Messages whose recipient and text are blanked as soon as they are delivered or given up: the
# confirmation of an erasure must not keep the address it was sent to (issue 14).
REDACT_ONCE_DELIVERED = frozenset({"intake.erasure_confirmed"})

# What each topic is for, as the coordination reads it (lists of letters and of undeliverable
# messages). Unknown topics are shown as they are.
TOPIC_LABELS = {
    "intake.acknowledgment": "Accusé de réception de la demande",
    "intake.erasure_confirmed": "Confirmation de l'effacement des données",
    "orientation.offer": "Médecins ayant accepté (choix du médecin)",
    "orientation.still_needed": "« Avez-vous toujours besoin d'un médecin traitant ? »",
    "orientation.still_needed_reminder": "Rappel « toujours besoin d'un médecin traitant ? »",
    "orientation.ask": "Sollicitation d'un médecin",
    "orientation.reminder": "Rappel à un médecin sollicité",
    "accounts.password_reset": "Réinitialisation du mot de passe",
}


class OutboxQuerySet(TenantQuerySet):
    tenant_field = "cpts"


class OutboxMessage(models.Model):
    """One e-mail or SMS to deliver. `recipient` is personal data: it is stored because delivery
    needs it, shown masked, never logged, and blanked after the retention period."""

    channel = models.CharField("canal", max_length=6, choices=Channel.choices)
    recipient = models.CharField("destinataire", max_length=254)
    subject = models.CharField("objet", max_length=200, blank=True)
    body = models.TextField("texte")
    cpts = models.ForeignKey(
        "territory.CPTS",
        verbose_name="CPTS",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbox_messages",
    )
    topic = models.CharField("sujet technique", max_length=60)
    related_type = models.CharField("type de l'objet lié", max_length=100, blank=True)
    related_id = models.CharField("identifiant de l'objet lié", max_length=64, blank=True)
    dedup_key = models.CharField(
        "clé d'unicité", max_length=120, unique=True, null=True, blank=True, default=None
    )

    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    next_attempt_at = models.DateTimeField("prochaine tentative")
    # A worker's claim: status "sending" until `locked_until`; after that another worker may
    # take the message again (the first one crashed).
    claim_token = models.CharField(max_length=32, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField("dernière erreur", max_length=120, blank=True)
    provider_id = models.CharField("identifiant fournisseur", max_length=120, blank=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)
    failed_at = models.DateTimeField("non distribuable depuis le", null=True, blank=True)
    # The coordination has dealt with an undeliverable message (called the person, wrote).
    handled_at = models.DateTimeField("traité le", null=True, blank=True)
    redacted_at = models.DateTimeField("données effacées le", null=True, blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        verbose_name = "message sortant"
        verbose_name_plural = "messages sortants"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["related_type", "related_id"], name="outbox_related_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="outbox_channel_valid", condition=Q(channel__in=Channel.values)
            ),
            models.CheckConstraint(
                name="outbox_status_valid", condition=Q(status__in=Status.values)
            ),
            models.CheckConstraint(
                name="outbox_sent_has_sent_at",
                condition=~Q(status=Status.SENT) | Q(sent_at__isnull=False),
            ),
            models.CheckConstraint(
                name="outbox_sending_has_lease",
                condition=~Q(status=Status.SENDING) | Q(locked_until__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} n° {self.pk} ({self.topic})"

    @property
    def masked_recipient(self) -> str:
        if self.channel == Channel.LETTER:
            return "courrier postal"
        return mask_recipient(self.channel, self.recipient)

    @property
    def purpose(self) -> str:
        return TOPIC_LABELS.get(self.topic, self.topic)


class PeriodicJob(models.Model):
    """When each registered periodic job (accesmt.notifications.jobs) last ran and may run next:
    kept in the database so that several workers run a job once per period, not once each."""

    name = models.CharField("nom", max_length=80, unique=True)
    next_run_at = models.DateTimeField("prochaine exécution")
    last_started_at = models.DateTimeField("dernier démarrage", null=True, blank=True)
    last_finished_at = models.DateTimeField("dernière fin", null=True, blank=True)
    last_outcome = models.CharField("dernier résultat", max_length=120, blank=True)

    class Meta:
        verbose_name = "tâche périodique"
        verbose_name_plural = "tâches périodiques"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkerHeartbeat(models.Model):
    """Each running worker process writes its last sign of life here at every pass (the health
    endpoint reports the freshest; a worker silent for a day is forgotten)."""

    name = models.CharField("processus", max_length=120, unique=True)  # host:pid
    kind = models.CharField("type", max_length=20)
    started_at = models.DateTimeField("démarré le", default=timezone.now)
    last_seen_at = models.DateTimeField("dernier signe de vie", default=timezone.now)

    class Meta:
        verbose_name = "worker en service"
        verbose_name_plural = "workers en service"
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return self.name


class OperationStatus(models.TextChoices):
    QUEUED = "queued", "En attente d'un worker"
    RUNNING = "running", "En cours"
    DONE = "done", "Terminée"
    FAILED = "failed", "Échouée"


ACTIVE_OPERATION_STATUSES = (OperationStatus.QUEUED, OperationStatus.RUNNING)


class Operation(models.Model):
    """One long piece of work started from a page (an allocation run, its bulk send…) and run as
    a background task (accesmt.notifications.operations): what it is, for which CPTS, who
    started it, how far it has gone, and how it ended. At most one active operation of a kind
    per CPTS (a DB constraint): a second start while one is queued or running is refused. An
    operation of the whole platform (an RPPS upload from the admin) has no CPTS: at most one
    active of a kind (a second constraint, NULLs being distinct in the first)."""

    kind = models.CharField("nature", max_length=40)
    cpts = models.ForeignKey(
        "territory.CPTS",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="operations",
        verbose_name="CPTS",
        help_text="Vide pour une opération de toute la plateforme (import RPPS).",
    )
    params = models.JSONField("paramètres", default=dict, blank=True)
    status = models.CharField(
        "état", max_length=10, choices=OperationStatus.choices, default=OperationStatus.QUEUED
    )
    step = models.CharField("étape", max_length=200, blank=True)
    done = models.PositiveIntegerField("fait", default=0)
    total = models.PositiveIntegerField("total", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="lancée par",
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)
    started_at = models.DateTimeField("commencée le", null=True, blank=True)
    updated_at = models.DateTimeField("dernière avancée", default=timezone.now)
    finished_at = models.DateTimeField("finie le", null=True, blank=True)
    error = models.CharField("erreur", max_length=500, blank=True)
    summary = models.TextField("résultat", blank=True)
    result_url = models.CharField("lien vers le résultat", max_length=300, blank=True)
    task_id = models.CharField("tâche", max_length=64, blank=True)

    class Meta:
        verbose_name = "opération"
        verbose_name_plural = "opérations"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "cpts"],
                condition=Q(status__in=["queued", "running"]),
                name="operation_one_active_per_kind_and_cpts",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(status__in=["queued", "running"], cpts__isnull=True),
                name="operation_one_active_per_kind_platform",
            ),
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")) | Q(total=0),
                name="operation_done_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} n° {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_OPERATION_STATUSES

    @property
    def is_done(self) -> bool:
        return self.status == OperationStatus.DONE

    @property
    def is_failed(self) -> bool:
        return self.status == OperationStatus.FAILED

    @property
    def has_file(self) -> bool:
        """It produced a file to download (operations.operation_file_keep)."""
        return self.is_done and bool(self.params.get("file"))

    @property
    def percent(self) -> int:
        if self.is_done:
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.done / self.total))

    @property
    def shows_count(self) -> bool:
        """« 1 200 sur 34 520 » beside the percentage: not when the handler counts in percents
        (a total of 100 would only repeat it), nor once done."""
        return bool(self.total) and self.total != 100 and not self.is_done

    def seconds_left(self, now=None) -> int | None:
        """Estimated from the pace so far (None until something is done)."""
        if not self.is_active or not self.started_at or not self.done or not self.total:
            return None
        elapsed = ((now or timezone.now()) - self.started_at).total_seconds()
        return max(0, round(elapsed / self.done * (self.total - self.done)))
