from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from accesmt.common.phones import normalise_phone

from .codes import normalise_name

# Words of `espace/<word>/` taken by pages that are not a CPTS's (the region's indicators).
RESERVED_CPTS_SLUGS = frozenset({"plateforme"})


def validate_cpts_slug(value: str) -> None:
    if value.lower() in RESERVED_CPTS_SLUGS:
        raise ValidationError(
            "Cet identifiant est réservé par la plateforme : choisissez-en un autre."
        )


insee_validator = RegexValidator(r"^(\d{5}|2[AB]\d{3})$", "Code INSEE invalide (5 caractères).")


class CoordinatesQuality(models.TextChoices):
    EXACT = "exact", "centre de la commune"
    APPROXIMATE = "approximate", "approché (communes du même code postal)"
    UNKNOWN = "unknown", "inconnu"


class Commune(models.Model):
    """Reference data: one French commune (loaded by `manage.py load_communes`)."""

    insee_code = models.CharField("code INSEE", max_length=5, primary_key=True)
    name = models.CharField("nom", max_length=120)
    # normalise_name(name), kept by save() and communes_load: the home page's search key.
    search_name = models.CharField("nom normalisé", max_length=120, db_index=True, editable=False)
    departement = models.CharField("département", max_length=3, db_index=True)
    region = models.CharField("région", max_length=3, blank=True)
    population = models.PositiveIntegerField("population", default=0)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    coordinates_quality = models.CharField(
        "qualité des coordonnées",
        max_length=12,
        choices=CoordinatesQuality.choices,
        default=CoordinatesQuality.UNKNOWN,
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="commune_coordinates_all_or_none",
                condition=(
                    models.Q(
                        latitude__isnull=True, longitude__isnull=True, coordinates_quality="unknown"
                    )
                    | models.Q(latitude__isnull=False, longitude__isnull=False)
                    & ~models.Q(coordinates_quality="unknown")
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.insee_code})"

    def save(self, *args, **kwargs):
        self.search_name = normalise_name(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_name"}
        super().save(*args, **kwargs)

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None


class PostalCode(models.Model):
    code = models.CharField("code postal", max_length=5, db_index=True)
    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="postal_codes")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "commune"], name="unique_postal_code_commune")
        ]

    def __str__(self) -> str:
        return self.code


class CPTSQuerySet(models.QuerySet):
    def for_user(self, user):
        """The CPTS a user may see: all of them for a platform admin, else their memberships."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_platform_admin:
            return self
        return self.filter(memberships__user=user, memberships__is_active=True).distinct()


class CPTS(models.Model):
    """The tenant: a territorial network of health professionals and the communes it covers."""

    name = models.CharField("nom", max_length=200, unique=True)
    slug = models.SlugField(
        "identifiant d'URL", max_length=60, unique=True, validators=[validate_cpts_slug]
    )
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("e-mail de contact", blank=True)
    website = models.URLField("site web", blank=True)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    communes = models.ManyToManyField(
        Commune, through="TerritoryCommune", related_name="cpts_set", verbose_name="communes"
    )

    objects = CPTSQuerySet.as_manager()

    class Meta:
        verbose_name = "CPTS"
        verbose_name_plural = "CPTS"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_uri(self) -> str:
        """ "tel:+33321000000" for a link that dials the CPTS, "" without a valid phone."""
        try:
            e164 = normalise_phone(self.phone)
        except ValidationError:
            return ""
        return f"tel:{e164}" if e164 else ""


class TerritoryCommune(models.Model):
    """A commune belongs to at most one CPTS: territories never overlap (unique commune)."""

    cpts = models.ForeignKey(CPTS, on_delete=models.CASCADE, related_name="territory")
    commune = models.OneToOneField(Commune, on_delete=models.PROTECT, related_name="territory")

    class Meta:
        verbose_name = "commune du territoire"
        verbose_name_plural = "communes du territoire"

    def __str__(self) -> str:
        return f"{self.commune} → {self.cpts}"
