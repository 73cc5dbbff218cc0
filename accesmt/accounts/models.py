from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from .querysets import TenantQuerySet


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "coordinateur·rice de la CPTS"
    REFERRER = "referrer", "professionnel·le orienteur·rice"
    GP = "gp", "médecin généraliste"
    CPAM_MEDIATOR = "cpam_mediator", "médiateur·rice CPAM / service social"
    # An agent of the Assurance Maladie who refers patients and sends its lists (issue 12).
    CPAM_AGENT = "cpam_agent", "agent de la CPAM"
    OBSERVER = "observer", "observateur (indicateurs agrégés)"
    MAIRIE = "mairie", "mairie (indicateurs de ses communes)"


class Profession(models.TextChoices):
    PHARMACIST = "pharmacien", "pharmacien·ne"
    NURSE = "infirmier", "infirmier·ère"
    PHYSIO = "kine", "masseur-kinésithérapeute"
    MIDWIFE = "sage_femme", "sage-femme"
    DOCTOR = "medecin", "médecin"
    SOCIAL_WORKER = "travailleur_social", "travailleur·euse social·e"
    CPAM = "cpam", "Assurance Maladie (CPAM)"


# The roles of the Assurance Maladie: their referrals show the CPAM as source, whatever the
# membership's profession (issue 12).
CPAM_ROLES: tuple[str, ...] = (Role.CPAM_AGENT, Role.CPAM_MEDIATOR)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("L'adresse e-mail est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, is_platform_admin=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("adresse e-mail", unique=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True)
    is_active = models.BooleanField("actif", default=True)
    is_staff = models.BooleanField("accès à l'administration", default=False)
    is_platform_admin = models.BooleanField("administrateur de la plateforme", default=False)
    date_joined = models.DateTimeField("inscrit le", default=timezone.now)
    # The RPPS number Pro Santé Connect gives for this account (accesmt.accounts.psc), stored at
    # the first PSC login the user started while logged in. None: never linked.
    rpps = models.CharField(
        "numéro RPPS (Pro Santé Connect)",
        max_length=11,
        unique=True,
        null=True,
        blank=True,
        validators=[RegexValidator(r"^\d{11}$", "Le numéro RPPS compte 11 chiffres.")],
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "utilisateur"
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email


class Membership(models.Model):
    """A user's role in one CPTS. A user may belong to several CPTS, with one role in each."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    cpts = models.ForeignKey("territory.CPTS", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    profession = models.CharField(
        "profession", max_length=20, choices=Profession.choices, blank=True
    )
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A mairie sees the aggregates of these communes only (of the CPTS's territory: checked by
    # `clean_mairie_communes`, called by the admin form). Empty for every other role.
    communes = models.ManyToManyField(
        "territory.Commune",
        blank=True,
        related_name="mairie_memberships",
        verbose_name="communes (rôle mairie)",
        help_text="Pour le rôle mairie : les communes dont elle voit les indicateurs.",
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "appartenance à une CPTS"
        verbose_name_plural = "appartenances aux CPTS"
        constraints = [
            models.UniqueConstraint(fields=["user", "cpts"], name="one_role_per_user_and_cpts"),
            models.CheckConstraint(
                name="referrer_has_profession",
                condition=~models.Q(role="referrer") | ~models.Q(profession=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} ({self.cpts})"

    # Named roles read by templates (instead of comparing `role` to strings).
    @property
    def is_gp(self) -> bool:
        return self.role == Role.GP

    @property
    def is_referrer(self) -> bool:
        return self.role == Role.REFERRER

    @property
    def is_cpam_mediator(self) -> bool:
        return self.role == Role.CPAM_MEDIATOR

    @property
    def is_cpam(self) -> bool:
        """An agent or a mediator of the Assurance Maladie."""
        return self.role in CPAM_ROLES

    @property
    def can_refer(self) -> bool:
        """Refers patients (intake:refer): professionals and the CPAM roles."""
        return self.role == Role.REFERRER or self.is_cpam

    @property
    def is_observer(self) -> bool:
        return self.role == Role.OBSERVER

    @property
    def is_mairie(self) -> bool:
        return self.role == Role.MAIRIE

    # The state shown on the members page (issue 13).
    @property
    def is_invited(self) -> bool:
        """Active, but the person has not chosen a password yet (invitation not accepted)."""
        return self.is_active and not self.user.has_usable_password()

    @property
    def is_deactivated(self) -> bool:
        """The membership, or the whole account, is deactivated."""
        return not self.is_active or (not self.user.is_active and not self.is_invited)


def clean_mairie_communes(*, role: str, cpts, communes) -> None:
    """A mairie lists at least one commune, all of the CPTS's territory; other roles none.
    Raises ValidationError naming the `communes` field."""
    communes = list(communes)
    if role != Role.MAIRIE:
        if communes:
            raise ValidationError({"communes": "Seul le rôle mairie est limité à des communes."})
        return
    if not communes:
        raise ValidationError({"communes": "Indiquez les communes de la mairie."})
    if cpts is None:
        return
    inside = set(
        cpts.territory.filter(commune_id__in=[c.pk for c in communes]).values_list(
            "commune_id", flat=True
        )
    )
    outside = [c for c in communes if c.pk not in inside]
    if outside:
        names = ", ".join(sorted(c.name for c in outside))
        raise ValidationError({"communes": f"Hors du territoire de {cpts.name} : {names}."})


PLATFORM_ADMIN = "platform_admin"  # pseudo-role recorded in the audit log for platform admins


class AuditAction(models.TextChoices):
    READ = "read", "lecture"
    CREATE = "create", "création"
    UPDATE = "update", "modification"
    DELETE = "delete", "suppression"
    EXPORT = "export", "export"
    TRANSITION = "transition", "changement d'état"
    LOGIN = "login", "connexion"
    LOGIN_FAILED = "login_failed", "échec de connexion"
    # Members of a CPTS (object: the member's user, in the CPTS of the line).
    MEMBER_INVITE = "member_invite", "invitation d'un membre"
    MEMBER_CHANGE = "member_change", "changement de rôle d'un membre"
    MEMBER_DEACTIVATE = "member_deactivate", "désactivation d'un membre"
    MEMBER_REACTIVATE = "member_reactivate", "réactivation d'un membre"
    MEMBER_REMOVE = "member_remove", "retrait d'un membre"
    # A person's data erased at their request (issue 14): the kind only, never what was erased.
    ERASURE = "erasure", "effacement à la demande de la personne"


class AuditLogIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit line (the database refuses too)."""


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("Le journal d'audit ne peut pas être modifié.")

    def delete(self):
        raise AuditLogIsAppendOnly("Le journal d'audit ne peut pas être effacé.")


class AuditLog(models.Model):
    """Who read or changed which record, when and from where. Append-only.

    Holds identifiers only: never a name, an e-mail address, a password or any health data.
    Users and CPTS that appear in the log are protected from deletion (deactivate them instead).
    """

    at = models.DateTimeField("date", default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name="utilisateur",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_role = models.CharField("rôle", max_length=20, blank=True)
    cpts = models.ForeignKey(
        "territory.CPTS",
        verbose_name="CPTS",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField("action", max_length=20, choices=AuditAction.choices)
    object_type = models.CharField("type d'objet", max_length=60, blank=True)
    object_id = models.CharField("identifiant de l'objet", max_length=64, blank=True)
    ip_address = models.GenericIPAddressField("adresse IP", null=True, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = "ligne du journal d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly("Le journal d'audit ne peut pas être modifié.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Le journal d'audit ne peut pas être effacé.")


# Roles whose holders must use a second factor (docs/decisions/0025-authentication.md): those who
# can download person rows or indicator exports. Platform admins and staff must too.
OTP_REQUIRED_ROLES = (Role.COORDINATOR, Role.CPAM_MEDIATOR, Role.OBSERVER, Role.MAIRIE)


class LoginFailure(models.Model):
    """Failed logins (password or second-factor code) for one account from one address.

    Counted per pair, never per account alone: failures from another address cannot lock a
    user out (accesmt.accounts.lockout)."""

    username = models.CharField("compte (e-mail normalisé)", max_length=254)
    ip_address = models.CharField("adresse IP", max_length=45, blank=True)  # "" when unknown
    failures = models.PositiveIntegerField("échecs", default=0)
    last_failure = models.DateTimeField("dernier échec")

    class Meta:
        verbose_name = "échec de connexion"
        verbose_name_plural = "échecs de connexion"
        constraints = [
            models.UniqueConstraint(
                fields=["username", "ip_address"],
                name="login_failure_one_row_per_pair",
            )
        ]

    def __str__(self) -> str:
        return f"{self.failures} échec(s)"


class AuditPurgeWindow(models.Model):
    """The audit purge's permission, written by `retention.audit_log_purge` inside its transaction
    and removed before it commits: the database's append-only trigger lets a DELETE through only
    for a line older than `before`, and only when `before` itself is older than the floor written
    in the trigger (accounts migration 0010: 365 days), so that even with a window no recent line
    can go. No other code writes it."""

    before = models.DateTimeField("lignes antérieures à")

    class Meta:
        verbose_name = "fenêtre de purge du journal d'audit"
        verbose_name_plural = "fenêtres de purge du journal d'audit"

    def __str__(self) -> str:
        return f"purge avant {self.before:%Y-%m-%d}"
