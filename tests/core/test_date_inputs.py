"""Every date field of every form renders the ISO value an `<input type="date">` expects.

A localised value (20/05/2028) is rejected by the browser, which shows the field empty and submits
it empty: saving a form unchanged would lose the date (issue #8, point 1)."""

import datetime
import importlib
import pkgutil

from django import forms
from django.utils import translation

import accesmt

DATE = datetime.date(2028, 5, 20)


def _all_forms() -> list[type[forms.BaseForm]]:
    for module in pkgutil.walk_packages(accesmt.__path__, "accesmt."):
        if ".migrations" not in module.name and ".management" not in module.name:
            importlib.import_module(module.name)
    found, todo = [], [forms.BaseForm]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("accesmt."):
            found.append(cls)
    return found


def test_every_date_field_renders_an_iso_date_input():
    date_fields = []
    with translation.override("fr"):
        for form_class in _all_forms():
            for name, field in form_class.base_fields.items():
                if not isinstance(field, forms.DateField):
                    continue
                date_fields.append(f"{form_class.__name__}.{name}")
                html = field.widget.render(name, DATE)
                assert 'type="date"' in html, f"{form_class.__name__}.{name}: {html}"
                assert 'value="2028-05-20"' in html, f"{form_class.__name__}.{name}: {html}"
    assert "DeclarationForm.planned_departure_date" in date_fields
    assert "MemberForm.birth_date" in date_fields
