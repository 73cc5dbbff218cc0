"""Place imported practice sites at their address rather than at the commune centre.

The RPPS import puts every new or moved site at the centre of its commune (geocode_source
"commune_centre", or "none" when the commune has no coordinates). `geocode_sites` asks the BAN
(through accesmt.territory.geocoding, the one geocoding client) for the address of each such
site, one site at a time:

- resumable: each site is written (or marked as tried) in its own transaction, and a site
  already tried is skipped until it changes again (`geocode_attempted_at` older than
  `updated_at`): an interrupted run starts again where it stopped; a site the BAN could not
  answer for (unreachable, malformed answer) is not marked as tried, so the next run asks again;
- rate-limited: at most `per_second` sites a second (a site costs one or two BAN requests:
  house number, then street);
- never over a coordinator's correction: sites whose coordinates were corrected are not asked
  for, and the row is re-read under lock before writing, so that a correction or an address
  change made during the request wins.

Nothing is logged but counts (addresses are personal data of a sort; see geocoding.py).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accesmt.territory.geocoding import GeocodeSource, Outcome, geocode_address

from .models import PracticeSite

# The BAN did not answer: the site is neither marked as tried nor saved, so the next run asks
# again (without --retry) and `updated_at` is not bumped.
_SERVICE_DOWN = (Outcome.UNREACHABLE, Outcome.MALFORMED)

_ADDRESS_FIELDS = ("address_line1", "address_line2", "address_line3", "postcode", "commune_id")


class RateLimiter:
    """At most `per_second` calls of `wait()` a second, evenly spaced (0 or less: no limit)."""

    def __init__(self, per_second: float, *, clock=time.monotonic, sleep=time.sleep):
        self.interval = 1 / per_second if per_second > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self.next_at: float | None = None

    def wait(self) -> None:
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def sites_to_geocode(*, retry: bool = False) -> QuerySet[PracticeSite]:
    """Present sites placed at the commune centre (or nowhere) whose coordinates no coordinator
    corrected; unless `retry`, only those not tried since they last changed."""
    sites = (
        PracticeSite.objects.filter(
            is_gone=False,
            commune__isnull=False,
            geocode_source__in=[GeocodeSource.COMMUNE_CENTRE, GeocodeSource.NONE],
        )
        .exclude(corrections__has_key="latitude")
        .exclude(corrections__has_key="longitude")
    )
    if not retry:
        sites = sites.filter(
            Q(geocode_attempted_at__isnull=True) | Q(geocode_attempted_at__lt=F("updated_at"))
        )
    return sites.order_by("pk")


@dataclass
class GeocodeReport:
    placed: int = 0  # now at their address
    unchanged: int = 0  # the BAN gave no precise answer: left where they were
    skipped: int = 0  # corrected or changed during the request: left alone
    reasons: Counter = field(default_factory=Counter)  # outcome of the unchanged ones

    @property
    def done(self) -> int:
        return self.placed + self.unchanged + self.skipped


def _street(site: PracticeSite) -> str:
    return site.address_line2 or site.address_line3 or site.address_line1


def geocode_site(site: PracticeSite, report: GeocodeReport) -> None:
    before = tuple(getattr(site, name) for name in _ADDRESS_FIELDS)
    result = geocode_address(street=_street(site), commune=site.commune, postcode=site.postcode)
    if result.outcome in _SERVICE_DOWN:
        report.unchanged += 1
        report.reasons[result.outcome] += 1
        return
    with transaction.atomic():
        current = PracticeSite.objects.select_for_update().filter(pk=site.pk).first()
        still_due = (
            current is not None
            and current.geocode_source != GeocodeSource.ADDRESS
            and "latitude" not in current.corrections
            and "longitude" not in current.corrections
            and tuple(getattr(current, name) for name in _ADDRESS_FIELDS) == before
        )
        if not still_due:
            report.skipped += 1
            return
        now = timezone.now()
        values = {"geocode_attempted_at": now, "updated_at": now}
        if result.precise:
            values |= {
                "latitude": result.latitude,
                "longitude": result.longitude,
                "geocode_source": GeocodeSource.ADDRESS,
            }
            report.placed += 1
        else:
            report.unchanged += 1
            report.reasons[result.outcome] += 1
        PracticeSite.objects.filter(pk=site.pk).update(**values)


def geocode_sites(
    *,
    per_second: float = 10.0,
    limit: int | None = None,
    retry: bool = False,
    sites: Iterable[PracticeSite] | None = None,
    limiter: RateLimiter | None = None,
    progress: Callable[[GeocodeReport, int], None] | None = None,
) -> GeocodeReport:
    """Geocode the sites due (see module doc); `limit` stops after that many sites."""
    if sites is None:
        ids = list(sites_to_geocode(retry=retry).values_list("pk", flat=True)[:limit])
    else:
        ids = [site.pk for site in sites][:limit]
    limiter = limiter or RateLimiter(per_second)
    report = GeocodeReport()
    for pk in ids:
        site = PracticeSite.objects.select_related("commune").filter(pk=pk).first()
        if site is None:
            continue
        limiter.wait()
        geocode_site(site, report)
        if progress:
            progress(report, len(ids))
    return report
