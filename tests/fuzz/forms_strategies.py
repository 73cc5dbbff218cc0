"""hypothesis strategies for the intake form (public page, referral): valid households, and
hostile ones (any unicode, control characters, NUL, emojis, SQL and HTML, huge strings, missing
fields, wrong types, bad dates, NIR, phones and postal codes, duplicated keys)."""

from __future__ import annotations

import datetime
import uuid

from hypothesis import strategies as st

from accesmt.intake.forms import MAX_MEMBERS
from accesmt.intake.models import Coverage, HomeVisits, Reason

MISSING = object()  # the field is not sent at all
PREFIX = "membres"

HOSTILE_SAMPLES = [
    "",
    " ",
    "\x00",
    "abc\x00def",
    "\t\r\n",
    "\x1b[31m",
    "\u202eevil",
    "\ufeff",
    "😀👨‍👩‍👧‍👦🇫🇷",
    "ﷺ" * 10,
    "ﬃ" * 40,
    "𝕬𝖇𝖈",
    "Robert'); DROP TABLE intake_request; --",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7|add:7 }}{% debug %}",
    "../../etc/passwd",
    "%00%0d%0a",
    "null",
    "None",
    "true",
    "-1",
    "0",
    "1e308",
    "NaN",
    "²",
    "١٢",
    "𝟙",
    "99999999999999999999999",
    "on",
]
_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60)
HOSTILE = st.one_of(
    st.sampled_from(HOSTILE_SAMPLES),
    _text,
    st.integers(min_value=200, max_value=20_000).map(lambda n: "x" * n),
    st.integers(min_value=10, max_value=3_000).map(lambda n: "é😀" * n),
)

LETTERS = st.characters(categories=("L",))
NAME = st.text(alphabet=LETTERS, min_size=1, max_size=30).filter(lambda s: s.strip())
PLACES = [
    ("62800", "Liévin"),
    ("62 800", "LIEVIN"),
    ("62800", "Éleu-dit-Leauwette"),
    ("62143", "Angres"),
    ("62143", ""),
    ("62300", "Lens"),  # another CPTS: refused with the name of the one that covers it
    ("62000", "Arras"),  # covered by no CPTS
]
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]


def _nir(sex: str, born: datetime.date) -> str:
    """A NIR with a correct key, consistent with sex and birth date (département 62)."""
    body = f"{'2' if sex == 'F' else '1'}{born:%y%m}62510{born.toordinal() % 999 + 1:03d}"
    return f"{body}{97 - int(body) % 97:02d}"


@st.composite
def valid_member(draw, last_name: str | None = None) -> dict:
    born = draw(
        st.dates(min_value=datetime.date(1915, 1, 1), max_value=datetime.date(2025, 12, 31))
    )
    sex = draw(st.sampled_from(["", "F", "M"]))
    member = {
        "first_name": draw(NAME),
        "last_name": last_name or draw(NAME),
        "birth_date": born.strftime(draw(st.sampled_from(DATE_FORMATS))),
        "home_visits": draw(st.sampled_from(HomeVisits.values)),
        "sex": sex,
    }
    if draw(st.booleans()):
        member["has_ald"] = "on"
    if draw(st.booleans()) and sex:
        member["nir"] = _nir(sex, born)
    return member


@st.composite
def valid_household(draw) -> dict:
    postcode, commune = draw(st.sampled_from(PLACES))
    phone = draw(
        st.one_of(
            st.just(""),
            st.integers(min_value=0, max_value=99_999_999).map(lambda n: f"06{n:08d}"),
            st.just("+32 470 12 34 56"),
        )
    )
    email = draw(st.sampled_from(["", "personne@example.org", "Prenom.Nom@Exemple.fr"]))
    if not phone and not email:
        email = "contact@example.org"
    reason = draw(st.sampled_from(Reason.values))
    data = {
        "submission_key": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),
        "address": f"{draw(st.integers(1, 300))} {draw(NAME)}",
        "postcode": postcode,
        "commune_name": commune,
        "phone": phone,
        "email": email,
        "coverage": draw(st.sampled_from(Coverage.values)),
        "reason": reason,
        "reason_other": draw(NAME) if reason == Reason.OTHER else "",
        "website": "",
        "consent_processing": "on",
        "consent_sharing": "on",
    }
    for flag in ("needs_rights_help", "urgent_follow_up"):
        if draw(st.booleans()):
            data[flag] = "on"
    count = draw(st.integers(min_value=1, max_value=MAX_MEMBERS))
    family = draw(NAME)
    members = [draw(valid_member(last_name=family if index else None)) for index in range(count)]
    data.update(management(count))
    for index, member in enumerate(members):
        data.update({f"{PREFIX}-{index}-{name}": value for name, value in member.items()})
    return data


def management(count: int) -> dict:
    return {
        f"{PREFIX}-TOTAL_FORMS": str(count),
        f"{PREFIX}-INITIAL_FORMS": "0",
        f"{PREFIX}-MIN_NUM_FORMS": "1",
        f"{PREFIX}-MAX_NUM_FORMS": str(MAX_MEMBERS),
    }


BAD_VALUES = {
    "postcode": st.sampled_from(["6280", "628000", "ABCDE", "99999", "00000", "62 80 0x", "٦٢٨٠٠"]),
    "phone": st.sampled_from(["12", "08 99 12 34 56", "+33 6", "3615", "06 12 34 56 78 90 12"]),
    "email": st.sampled_from(["@", "a@", "a@b", "personne@@example.org", "x" * 300 + "@a.fr"]),
    "coverage": st.sampled_from(["", "ame ", "AME", "general"]),
    "reason": st.sampled_from(["", "autre", "OTHER"]),
    f"{PREFIX}-0-birth_date": st.sampled_from(
        ["31/02/2020", "2099-01-01", "1800-01-01", "00/00/0000", "12/13/1990", "1990-1-1-1"]
    ),
    f"{PREFIX}-0-nir": st.sampled_from(
        ["1", "123456789012345", "2 84 05 62 510 123 00", "A" * 15, "1" * 30]
    ),
    f"{PREFIX}-TOTAL_FORMS": st.sampled_from(["0", "-1", "abc", "", "13", "5000", "1.5", "²"]),
    f"{PREFIX}-INITIAL_FORMS": st.sampled_from(["-1", "x", "3"]),
}


@st.composite
def hostile_submission(draw) -> tuple[dict, bool]:
    """(POST data, sent twice): a valid household with some fields replaced by bad or hostile
    values, removed, or sent twice with different values. Values may be lists: the client then
    sends the key once per value."""
    data: dict = draw(valid_household())
    keys = sorted(set(data) | set(BAD_VALUES) | {"consent_processing", "consent_sharing"})
    touched = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=6, unique=True))
    for key in touched:
        how = draw(st.sampled_from(["bad", "hostile", "missing", "duplicated"]))
        if how == "bad" and key in BAD_VALUES:
            data[key] = draw(BAD_VALUES[key])
        elif how == "missing":
            data.pop(key, None)
        elif how == "duplicated" and key in data:
            data[key] = [data[key], draw(HOSTILE)]
        else:
            data[key] = draw(HOSTILE)
    if draw(st.integers(0, 9)) == 0:
        extra = draw(st.sampled_from(["add_member", "remove_member"]))
        data[extra] = draw(st.one_of(st.sampled_from(["1", "0", "12", "²", "١", "𝟙"]), HOSTILE))
    return data, draw(st.booleans())


def submissions() -> st.SearchStrategy[tuple[dict, bool]]:
    """Valid households one time in three (so that stores happen), hostile ones otherwise."""
    valid = st.tuples(valid_household(), st.booleans())
    return st.one_of(valid, hostile_submission(), hostile_submission())


def post_data(data: dict) -> dict:
    return {key: value for key, value in data.items() if value is not MISSING}
