"""The GP offer: practitioners (from the national RPPS directory or added by hand), their practice
sites, and the availability declarations that say whether they take new patients.

- `Practitioner` is global (one row per RPPS number, whatever the CPTS): the CPTS a GP belongs to
  is the CPTS whose territory holds the commune of one of their sites (`selectors.cpts_of`).
- `PracticeSite` is one practice address of a practitioner (one row of the RPPS file per
  professional × site); `site_key` identifies it stably across imports.
- `AvailabilityDeclaration` is dated and belongs to one CPTS (the tenant). The latest declaration
  of a practitioner in a CPTS is the current one while it is valid; expired, it no longer counts as
  accepting (`AvailabilityDeclaration.objects.current()` / `.accepting()`).

Fields the coordinator corrected are listed in `corrections` so that a re-import leaves them
alone (docs/decisions/0004-rpps-import.md).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accesmt.accounts.access import TenantQuerySet, scope_to_memberships
from accesmt.common.formats import short_date
from accesmt.territory.geocoding import GeocodeSource  # noqa: F401 (re-exported)
from accesmt.territory.models import Commune

rpps_validator = RegexValidator(r"^\d{11}$", "Le numéro RPPS compte 11 chiffres.")
postcode_validator = RegexValidator(r"^\d{5}$", "Le code postal compte 5 chiffres.")

GP_PROFESSION_CODE = "10"  # Médecin
# Savoir-faire that make a médecin a GP: qualifié en médecine générale (SM26), spécialiste en
# médecine générale (SM53), médecine générale (SM54).
GP_SAVOIR_FAIRE_CODES = frozenset({"SM26", "SM53", "SM54"})


def default_valid_until(declared_at: datetime.datetime | None = None) -> datetime.datetime:
    """End of validity of a declaration made at `declared_at` (now by default)."""
    days = getattr(settings, "DECLARATION_VALIDITY_DAYS", 183)
    return (declared_at or timezone.now()) + datetime.timedelta(days=days)


class Source(models.TextChoices):
    RPPS = "rpps", "annuaire national (RPPS)"
    MANUAL = "manual", "ajouté par la coordination"


class AgeBand(models.TextChoices):
    UNDER_40 = "under_40", "moins de 40 ans"
    FROM_40_TO_49 = "40_49", "40 à 49 ans"
    FROM_50_TO_59 = "50_59", "50 à 59 ans"
    FROM_60_TO_64 = "60_64", "60 à 64 ans"
    FROM_65 = "65_plus", "65 ans et plus"


# Each band: (band, lowest age, first age of the next band or None). Written once: Python
# (`age_band_for`) and SQL (`age_band_q`) read the same limits.
AGE_BAND_LIMITS = (
    (AgeBand.UNDER_40, 0, 40),
    (AgeBand.FROM_40_TO_49, 40, 50),
    (AgeBand.FROM_50_TO_59, 50, 60),
    (AgeBand.FROM_60_TO_64, 60, 65),
    (AgeBand.FROM_65, 65, None),
)
AGED_60_PLUS_BANDS = (AgeBand.FROM_60_TO_64, AgeBand.FROM_65)


def age_band_for(age: int) -> str:
    for band, _low, high in AGE_BAND_LIMITS:
        if high is None or age < high:
            return band
    raise AssertionError("unreachable")


def age_band_q(band: str, year: int, prefix: str = "") -> Q:
    """Practitioners (reached through `prefix`, e.g. "practitioner__") in `band` in `year`: by
    their birth year when known (age = year − birth year, as `Practitioner.age_band_on`), else by
    the band entered."""
    _band, low, high = next(limits for limits in AGE_BAND_LIMITS if limits[0] == band)
    by_year = Q(**{f"{prefix}birth_year__isnull": False, f"{prefix}birth_year__lte": year - low})
    if high is not None:
        by_year &= Q(**{f"{prefix}birth_year__gt": year - high})
    return by_year | Q(**{f"{prefix}birth_year__isnull": True, f"{prefix}age_band": band})


def aged_60_plus_q(year: int, prefix: str = "") -> Q:
    condition = Q()
    for band in AGED_60_PLUS_BANDS:
        condition |= age_band_q(band, year, prefix)
    return condition


def unknown_age_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}birth_year__isnull": True, f"{prefix}age_band": ""})


class PractitionerQuerySet(models.QuerySet):
    def present(self):
        """Practitioners still in the national file (or added by hand and not withdrawn)."""
        return self.filter(is_gone=False)

    def in_cpts(self, cpts):
        """Practitioners with a present site in a commune of the CPTS territory."""
        return self.filter(
            Exists(
                PracticeSite.objects.filter(
                    practitioner=OuterRef("pk"),
                    is_gone=False,
                    commune__territory__cpts=cpts,
                )
            )
        )

    def for_user(self, user, roles=None):
        """Practitioners of the CPTS where the user has an active membership with one of `roles`
        (all for a platform admin). Not a TenantQuerySet: the tenant is reached through the
        sites (a practitioner may practise in two CPTS), so it cannot be one `tenant_field`."""
        return scope_to_memberships(
            self,
            user,
            roles,
            lambda cpts: self.filter(
                Exists(
                    PracticeSite.objects.filter(
                        practitioner=OuterRef("pk"), commune__territory__cpts__in=cpts
                    )
                )
            ),
        )


class Practitioner(models.Model):
    """A GP of the directory: imported from the RPPS file or added by the coordination."""

    rpps = models.CharField(
        "numéro RPPS",
        max_length=11,
        unique=True,
        null=True,
        blank=True,
        validators=[rpps_validator],
        help_text="Identifiant national (11 chiffres), facultatif pour un médecin ajouté "
        "à la main.",
    )
    civility = models.CharField("civilité", max_length=20, blank=True)
    first_name = models.CharField("prénom", max_length=120, blank=True)
    last_name = models.CharField("nom", max_length=120)
    profession_code = models.CharField("code profession", max_length=4, default=GP_PROFESSION_CODE)
    specialty_codes = models.JSONField(
        "codes savoir-faire",
        default=list,
        blank=True,
        help_text="Codes savoir-faire du fichier RPPS, p. ex. SM54 (médecine générale).",
    )
    birth_year = models.PositiveSmallIntegerField(
        "année de naissance",
        null=True,
        blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2100)],
        help_text="Absente du fichier RPPS : saisie par la coordination quand elle est connue.",
    )
    age_band = models.CharField(
        "tranche d'âge",
        max_length=10,
        choices=AgeBand.choices,
        blank=True,
        help_text="À défaut d'année de naissance.",
    )
    email = models.EmailField("e-mail", blank=True)
    is_msu = models.BooleanField("maître de stage universitaire (MSU)", default=False)
    source = models.CharField("origine", max_length=10, choices=Source.choices)
    is_gone = models.BooleanField(
        "absent du dernier fichier",
        default=False,
        help_text="Ne figure plus dans l'annuaire national (ou retiré par la coordination).",
    )
    gone_since = models.DateTimeField("absent depuis", null=True, blank=True)
    imported_at = models.DateTimeField(
        "dernier import",
        null=True,
        blank=True,
        help_text="Dernier import qui a créé ou modifié la fiche.",
    )
    import_hash = models.CharField(
        "empreinte du dernier import",
        max_length=16,
        blank=True,
        editable=False,
        help_text="Empreinte des valeurs du fichier RPPS écrites par le dernier import : un "
        "réimport ne touche pas une fiche dont l'empreinte n'a pas changé.",
    )
    corrections = models.JSONField(
        "corrections de la coordination",
        default=dict,
        blank=True,
        help_text="Champs corrigés à la main, que les imports suivants ne remplacent pas.",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    objects = PractitionerQuerySet.as_manager()

    class Meta:
        verbose_name = "médecin"
        verbose_name_plural = "médecins"
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            models.CheckConstraint(
                name="practitioner_source_valid",
                condition=Q(source__in=Source.values),
            ),
            models.CheckConstraint(
                name="practitioner_gone_since_iff_gone",
                condition=Q(is_gone=True, gone_since__isnull=False)
                | Q(is_gone=False, gone_since__isnull=True),
            ),
            models.CheckConstraint(
                name="practitioner_rpps_source_has_rpps",
                condition=~Q(source=Source.RPPS) | Q(rpps__isnull=False),
            ),
            models.CheckConstraint(
                name="practitioner_birth_year_range",
                condition=Q(birth_year__isnull=True)
                | Q(birth_year__gte=1900, birth_year__lte=2100),
            ),
            models.CheckConstraint(
                name="practitioner_age_band_valid",
                condition=Q(age_band="") | Q(age_band__in=AgeBand.values),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return " ".join(p for p in ("Dr", self.first_name, self.last_name) if p)

    def age_band_on(self, date: datetime.date | None = None) -> str:
        """The age band (a value of AgeBand): from the birth year when known, else as entered."""
        if self.birth_year:
            year = (date or timezone.localdate()).year
            return age_band_for(year - self.birth_year)
        return self.age_band


class PracticeType(models.TextChoices):
    SOLO = "solo", "cabinet individuel"
    GROUP = "group", "cabinet de groupe"
    MSP = "msp", "maison de santé pluriprofessionnelle (MSP)"
    HEALTH_CENTRE = "health_centre", "centre de santé"
    OTHER = "other", "autre ou inconnu"


class PracticeSiteQuerySet(TenantQuerySet):
    tenant_field = "commune__territory__cpts"

    def present(self):
        return self.filter(is_gone=False)

    def in_cpts(self, cpts):
        return self.filter(commune__territory__cpts=cpts)


class PracticeSite(models.Model):
    """One practice address of a practitioner (one RPPS row per professional × site)."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="sites", verbose_name="médecin"
    )
    site_key = models.CharField(
        "clé du lieu d'exercice",
        max_length=40,
        help_text="Empreinte stable (structure + adresse) qui reconnaît le lieu d'un import à "
        "l'autre.",
    )
    structure_id = models.CharField("identifiant de la structure", max_length=40, blank=True)
    label = models.CharField("nom de la structure", max_length=200, blank=True)
    address_line1 = models.CharField("complément d'adresse", max_length=200, blank=True)
    address_line2 = models.CharField("numéro et voie", max_length=200, blank=True)
    address_line3 = models.CharField(
        "lieu-dit, mention de distribution", max_length=200, blank=True
    )
    postcode = models.CharField("code postal", max_length=5, blank=True)
    commune_name = models.CharField("libellé de la commune", max_length=120, blank=True)
    commune = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="practice_sites",
        verbose_name="commune",
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    geocode_source = models.CharField(
        "origine des coordonnées",
        max_length=20,
        choices=GeocodeSource.choices,
        default=GeocodeSource.NONE,
    )
    geocode_attempted_at = models.DateTimeField(
        "dernier géocodage tenté",
        null=True,
        blank=True,
        help_text="Par `manage.py geocode_sites` ; un lieu modifié depuis est géocodé à nouveau.",
    )
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("e-mail", blank=True)
    practice_type = models.CharField(
        "mode d'exercice",
        max_length=15,
        choices=PracticeType.choices,
        default=PracticeType.OTHER,
    )
    source = models.CharField("origine", max_length=10, choices=Source.choices)
    is_gone = models.BooleanField("absent du dernier fichier", default=False)
    gone_since = models.DateTimeField("absent depuis", null=True, blank=True)
    imported_at = models.DateTimeField(
        "dernier import",
        null=True,
        blank=True,
        help_text="Dernier import qui a créé ou modifié la fiche.",
    )
    import_hash = models.CharField(
        "empreinte du dernier import",
        max_length=16,
        blank=True,
        editable=False,
        help_text="Empreinte des valeurs du fichier RPPS écrites par le dernier import : un "
        "réimport ne touche pas une fiche dont l'empreinte n'a pas changé.",
    )
    corrections = models.JSONField("corrections de la coordination", default=dict, blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    objects = PracticeSiteQuerySet.as_manager()

    class Meta:
        verbose_name = "lieu d'exercice"
        verbose_name_plural = "lieux d'exercice"
        ordering = ["practitioner", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practitioner", "site_key"], name="unique_practice_site_key"
            ),
            models.CheckConstraint(
                name="practice_site_coordinates_all_or_none",
                condition=Q(latitude__isnull=True, longitude__isnull=True, geocode_source="none")
                | Q(latitude__isnull=False, longitude__isnull=False) & ~Q(geocode_source="none"),
            ),
            models.CheckConstraint(
                name="practice_site_gone_since_iff_gone",
                condition=Q(is_gone=True, gone_since__isnull=False)
                | Q(is_gone=False, gone_since__isnull=True),
            ),
            models.CheckConstraint(
                name="practice_site_type_valid", condition=Q(practice_type__in=PracticeType.values)
            ),
        ]
        indexes = [models.Index(fields=["commune", "is_gone"], name="practice_site_commune_idx")]

    def __str__(self) -> str:
        where = self.commune.name if self.commune_id else (self.commune_name or self.postcode)
        return f"{self.label or 'Cabinet'} – {where}"

    @property
    def address_lines(self) -> list[str]:
        lines = [self.address_line1, self.address_line2, self.address_line3]
        city = " ".join(p for p in (self.postcode, self.commune_name) if p)
        return [line for line in [*lines, city] if line]


class Accepting(models.TextChoices):
    YES = "yes", "oui"
    ON_REQUEST = "on_request", "au cas par cas"
    NO = "no", "non"


class Listing(models.TextChoices):
    PUBLIC = "public", "carte publique"
    PROFESSIONALS = "professionals", "professionnels de santé seulement"
    NOT_LISTED = "not_listed", "ne pas apparaître"


class DeclarationSource(models.TextChoices):
    SURVEY = "survey", "enquête (lien personnel)"
    GP = "gp", "le médecin, depuis son espace"
    COORDINATOR = "coordinator", "la coordination"


# Profile flags of a declaration, in the order of accesmt.matching.candidates.Profile.
PROFILE_FIELDS = (
    "accepts_children_under_6",
    "accepts_aged_70_plus",
    "accepts_ald",
    "accepts_css_ame",
    "accepts_home_visits",
    "accepts_households",
)


class DepartureCertainty(models.TextChoices):
    CERTAIN = "certain", "certain"
    PROBABLE = "probable", "probable"


class DepartureScope(models.TextChoices):
    FULL = "full", "cessation complète"
    PARTIAL = "partial", "réduction d'activité (départ partiel)"


# A partial departure (reduced activity, one site closed) hands over this share of the GP's
# patients: half, a documented convention (docs/decisions/0016-departures-projection.md).
PARTIAL_DEPARTURE_SHARE = 0.5

MAX_MONTHLY_CAPACITY = 200
MAX_HOME_VISIT_RADIUS_KM = 100
MAX_PATIENT_COUNT = 20000


class AvailabilityDeclarationQuerySet(TenantQuerySet):
    tenant_field = "cpts"

    def latest_per_practitioner(self):
        """The most recent declaration of each practitioner in each CPTS, expired or not."""
        newer = AvailabilityDeclaration.objects.filter(
            practitioner=OuterRef("practitioner"), cpts=OuterRef("cpts")
        ).filter(
            Q(declared_at__gt=OuterRef("declared_at"))
            | Q(declared_at=OuterRef("declared_at"), pk__gt=OuterRef("pk"))
        )
        return self.filter(~Exists(newer))

    def valid(self, now: datetime.datetime | None = None):
        """Declarations not expired at `now`."""
        return self.filter(valid_until__gt=now or timezone.now())

    def expired(self, now: datetime.datetime | None = None):
        return self.filter(valid_until__lte=now or timezone.now())

    def current(self, now: datetime.datetime | None = None):
        """The current declaration of each practitioner in each CPTS: their latest one, when it
        has not expired. A practitioner whose latest declaration expired has none."""
        return self.latest_per_practitioner().valid(now)

    def accepting(self, now: datetime.datetime | None = None, *, include_on_request: bool = True):
        """Current declarations that accept new patients ("au cas par cas" included unless
        `include_on_request=False`), excluding practitioners no longer in the directory."""
        values = [Accepting.YES, Accepting.ON_REQUEST] if include_on_request else [Accepting.YES]
        return self.current(now).filter(accepting__in=values, practitioner__is_gone=False)

    def listed_publicly(self):
        return self.filter(listing=Listing.PUBLIC)

    def listed_to_professionals(self):
        return self.filter(listing__in=[Listing.PUBLIC, Listing.PROFESSIONALS])


class AvailabilityDeclaration(models.Model):
    """What a GP declared about taking new patients, in one CPTS, at one date."""

    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        related_name="declarations",
        verbose_name="médecin",
    )
    cpts = models.ForeignKey(
        "territory.CPTS",
        on_delete=models.CASCADE,
        related_name="availability_declarations",
        verbose_name="CPTS",
    )
    declared_at = models.DateTimeField("déclaré le", default=timezone.now)
    valid_until = models.DateTimeField("valable jusqu'au")
    accepting = models.CharField(
        "accepte de nouveaux patients", max_length=12, choices=Accepting.choices
    )
    monthly_capacity = models.PositiveSmallIntegerField(
        "nouveaux patients par mois",
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_MONTHLY_CAPACITY)],
    )
    # Of the monthly capacity, the places for the patients of a departing colleague (transfer
    # plans, decision 0017): never more than `monthly_capacity`; empty = no transfers.
    transfer_capacity = models.PositiveSmallIntegerField(
        "places par mois pour des patients d'un confrère qui part (transferts)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_MONTHLY_CAPACITY)],
    )
    accepts_children_under_6 = models.BooleanField("enfants de moins de 6 ans", default=False)
    accepts_aged_70_plus = models.BooleanField("personnes de 70 ans et plus", default=False)
    accepts_ald = models.BooleanField("patients en ALD", default=False)
    accepts_css_ame = models.BooleanField("bénéficiaires de la CSS ou de l'AME", default=False)
    accepts_home_visits = models.BooleanField(
        "personnes ayant besoin de visites à domicile", default=False
    )
    accepts_households = models.BooleanField("foyers de plusieurs personnes", default=False)
    home_visit_communes = models.ManyToManyField(
        Commune,
        blank=True,
        related_name="home_visit_declarations",
        verbose_name="communes des visites à domicile",
    )
    home_visit_radius_km = models.PositiveSmallIntegerField(
        "rayon des visites à domicile (km)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_HOME_VISIT_RADIUS_KM)],
    )
    listing = models.CharField("apparaître dans la liste", max_length=15, choices=Listing.choices)
    planned_departure_date = models.DateField(
        "date prévue de départ (retraite, déménagement)", null=True, blank=True
    )
    departure_certainty = models.CharField(
        "départ certain ou probable",
        max_length=10,
        choices=DepartureCertainty.choices,
        blank=True,
    )
    departure_scope = models.CharField(
        "départ complet ou partiel",
        max_length=10,
        choices=DepartureScope.choices,
        blank=True,
    )
    approx_patient_count = models.PositiveIntegerField(
        "nombre approximatif de patients médecin traitant",
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_PATIENT_COUNT)],
    )
    remarks = models.TextField("remarques pour la coordination", blank=True)
    source = models.CharField("saisie par", max_length=12, choices=DeclarationSource.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="enregistrée par",
    )
    created_at = models.DateTimeField("enregistrée le", auto_now_add=True)

    objects = AvailabilityDeclarationQuerySet.as_manager()

    class Meta:
        verbose_name = "déclaration de disponibilité"
        verbose_name_plural = "déclarations de disponibilité"
        ordering = ["-declared_at", "-pk"]
        get_latest_by = "declared_at"
        constraints = [
            models.CheckConstraint(
                name="declaration_valid_after_declared",
                condition=Q(valid_until__gt=models.F("declared_at")),
            ),
            models.CheckConstraint(
                name="declaration_accepting_valid", condition=Q(accepting__in=Accepting.values)
            ),
            models.CheckConstraint(
                name="declaration_listing_valid", condition=Q(listing__in=Listing.values)
            ),
            models.CheckConstraint(
                name="declaration_source_valid",
                condition=Q(source__in=DeclarationSource.values),
            ),
            models.CheckConstraint(
                name="declaration_capacity_range",
                condition=Q(monthly_capacity__isnull=True)
                | Q(monthly_capacity__gte=0, monthly_capacity__lte=MAX_MONTHLY_CAPACITY),
            ),
            models.CheckConstraint(
                name="declaration_transfer_capacity_within_capacity",
                condition=Q(transfer_capacity__isnull=True)
                | Q(transfer_capacity=0)
                | Q(
                    monthly_capacity__isnull=False,
                    transfer_capacity__lte=models.F("monthly_capacity"),
                ),
            ),
            models.CheckConstraint(
                name="declaration_no_capacity_when_refusing",
                condition=~Q(accepting=Accepting.NO)
                | Q(monthly_capacity__isnull=True)
                | Q(monthly_capacity=0),
            ),
            models.CheckConstraint(
                name="declaration_radius_range",
                condition=Q(home_visit_radius_km__isnull=True)
                | Q(
                    home_visit_radius_km__gte=1, home_visit_radius_km__lte=MAX_HOME_VISIT_RADIUS_KM
                ),
            ),
            models.CheckConstraint(
                name="declaration_departure_details_need_date",
                # details only with a date; a date without details reads as probable and full
                condition=(
                    Q(planned_departure_date__isnull=False)
                    | Q(departure_certainty="", departure_scope="")
                )
                & Q(departure_certainty__in=["", *DepartureCertainty.values])
                & Q(departure_scope__in=["", *DepartureScope.values]),
            ),
            models.CheckConstraint(
                name="declaration_patient_count_range",
                condition=Q(approx_patient_count__isnull=True)
                | Q(approx_patient_count__lte=MAX_PATIENT_COUNT),
            ),
        ]
        indexes = [
            models.Index(
                fields=["cpts", "practitioner", "-declared_at"], name="declaration_latest_idx"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.practitioner} – {self.get_accepting_display()} ({short_date(self.declared_at)})"
        )

    def is_expired(self, now: datetime.datetime | None = None) -> bool:
        return self.valid_until <= (now or timezone.now())

    @property
    def departure_certainty_label(self) -> str:
        if self.planned_departure_date is None:
            return ""
        return DepartureCertainty(self.departure_certainty or DepartureCertainty.PROBABLE).label

    @property
    def departure_scope_label(self) -> str:
        if self.planned_departure_date is None:
            return ""
        return DepartureScope(self.departure_scope or DepartureScope.FULL).label

    @property
    def departure_share(self) -> float:
        """The share of the GP's patients the declared departure hands over (0 without one)."""
        if self.planned_departure_date is None:
            return 0.0
        return PARTIAL_DEPARTURE_SHARE if self.departure_scope == DepartureScope.PARTIAL else 1.0

    @property
    def accepted_profiles(self) -> list[str]:
        """Labels of the profiles accepted (French, for display)."""
        return [
            str(self._meta.get_field(name).verbose_name)
            for name in PROFILE_FIELDS
            if getattr(self, name)
        ]


class SurveyCampaign(models.Model):
    """A survey sent to the GPs of a CPTS: one personal link (invitation) per GP."""

    cpts = models.ForeignKey(
        "territory.CPTS",
        on_delete=models.CASCADE,
        related_name="survey_campaigns",
        verbose_name="CPTS",
    )
    title = models.CharField("titre", max_length=200)
    reminder_after_days = models.PositiveSmallIntegerField(
        "relance après (jours)",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    launched_at = models.DateTimeField("lancée le", default=timezone.now)
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="lancée par",
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "enquête"
        verbose_name_plural = "enquêtes"
        ordering = ["-launched_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class SurveyInvitation(models.Model):
    """One GP's personal link in a campaign; `answered_at` is the last answer through it."""

    campaign = models.ForeignKey(
        SurveyCampaign,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name="enquête",
    )
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        related_name="survey_invitations",
        verbose_name="médecin",
    )
    email = models.EmailField("e-mail")
    sent_at = models.DateTimeField("envoyée le", default=timezone.now)
    reminded_at = models.DateTimeField("relancée le", null=True, blank=True)
    answered_at = models.DateTimeField("répondu le", null=True, blank=True)
    declaration = models.ForeignKey(
        AvailabilityDeclaration,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="dernière déclaration",
    )

    class Meta:
        verbose_name = "invitation à l'enquête"
        verbose_name_plural = "invitations à l'enquête"
        ordering = ["campaign", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "practitioner"], name="unique_survey_invitation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} – {self.practitioner}"


class GPCount(models.Model):
    """The GPs of a CPTS counted on a date: at the end of every RPPS import, for each CPTS the
    import covered (one row per CPTS and day, the day's last import wins), and once at
    deployment. The offer indicators draw the change in the number of GPs from it: the directory
    itself only knows today."""

    cpts = models.ForeignKey(
        "territory.CPTS", on_delete=models.CASCADE, related_name="gp_counts", verbose_name="CPTS"
    )
    date = models.DateField("date du décompte")
    present = models.PositiveIntegerField("médecins généralistes présents")
    aged_60_plus = models.PositiveIntegerField("dont 60 ans et plus")
    msu = models.PositiveIntegerField("dont maîtres de stage universitaires")
    counted_at = models.DateTimeField("compté le", default=timezone.now)

    class Meta:
        verbose_name = "décompte des médecins"
        verbose_name_plural = "décomptes des médecins"
        ordering = ["cpts", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["cpts", "date"], name="unique_gp_count_per_day"),
            models.CheckConstraint(
                name="gp_count_parts_within_present",
                condition=Q(aged_60_plus__lte=models.F("present"), msu__lte=models.F("present")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cpts} – {short_date(self.date)} : {self.present}"


class InstallationKind(models.TextChoices):
    NEW_PRACTICE = "new_practice", "ouverture d'un nouveau cabinet"
    JOINING = "joining", "arrivée dans un cabinet existant"


class PlannedInstallation(models.Model):
    """A GP expected to start practising on the territory at a date (a GP of the directory or a
    name typed by the coordination), and the new patients a month they should take from then, in
    the communes they will serve. Recorded by the coordination; read by the projection
    (`reporting.indicators.projection`)."""

    cpts = models.ForeignKey(
        "territory.CPTS",
        on_delete=models.CASCADE,
        related_name="planned_installations",
        verbose_name="CPTS",
    )
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="planned_installations",
        verbose_name="médecin de l'annuaire",
    )
    name = models.CharField(
        "nom du médecin",
        max_length=200,
        blank=True,
        help_text="Si le médecin n'est pas (encore) dans l'annuaire.",
    )
    kind = models.CharField("installation", max_length=15, choices=InstallationKind.choices)
    practice_label = models.CharField("cabinet", max_length=200, blank=True)
    date = models.DateField("date prévue d'installation")
    communes = models.ManyToManyField(
        Commune, related_name="planned_installations", verbose_name="communes desservies"
    )
    monthly_capacity = models.PositiveSmallIntegerField(
        "nouveaux patients par mois attendus",
        validators=[MaxValueValidator(MAX_MONTHLY_CAPACITY)],
    )
    certainty = models.CharField(
        "installation certaine ou probable", max_length=10, choices=DepartureCertainty.choices
    )
    remarks = models.TextField("remarques", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="enregistrée par",
    )
    created_at = models.DateTimeField("enregistrée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "installation prévue"
        verbose_name_plural = "installations prévues"
        ordering = ["date", "pk"]
        constraints = [
            models.CheckConstraint(
                name="installation_names_a_gp",
                condition=Q(practitioner__isnull=False) | ~Q(name=""),
            ),
            models.CheckConstraint(
                name="installation_kind_valid", condition=Q(kind__in=InstallationKind.values)
            ),
            models.CheckConstraint(
                name="installation_certainty_valid",
                condition=Q(certainty__in=DepartureCertainty.values),
            ),
            models.CheckConstraint(
                name="installation_capacity_range",
                condition=Q(monthly_capacity__lte=MAX_MONTHLY_CAPACITY),
            ),
        ]
        indexes = [models.Index(fields=["cpts", "date"], name="installation_cpts_date_idx")]

    def __str__(self) -> str:
        return f"{self.gp_name} – {short_date(self.date)}"

    @property
    def gp_name(self) -> str:
        return self.practitioner.display_name if self.practitioner_id else self.name
