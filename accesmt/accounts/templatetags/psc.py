"""`{% psc_enabled as psc %}`: whether the deployment offers Pro Santé Connect."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def psc_enabled() -> bool:
    return bool(settings.PSC_ENABLED)
