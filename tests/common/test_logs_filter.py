"""The scrub filter on every handler: routes instead of token paths, masks for what looks like
a token, an e-mail, a NIR or a phone, in the message, its arguments and the exception text."""

import logging

import pytest

from accesmt.common.logs import ScrubFilter, mask, route_of, scrub
from accesmt.common.signing import make_link_token

TOKEN = make_link_token(123456, salt="accesmt.intake.followup", key="r")


@pytest.mark.parametrize(
    ("path", "route"),
    [
        (f"/suivi/{TOKEN}/", "/suivi/<token>/"),
        (f"/suivi/{TOKEN}/refus/", "/suivi/<token>/refus/"),
        (f"/enquete/{TOKEN}/", "/enquete/<token>/"),
        ("/compte/mot-de-passe-oublie/MQ/cf8xzz-0123456789abcdef0123456789abcdef/", None),
        ("/espace/lievin/demandes/AB12CD34/", "/espace/<cpts_slug>/demandes/<reference>/"),
        ("/wp-admin/setup.php", "/wp-admin/…"),
        (f"/{TOKEN}", "/…"),
        ("/jean.dupont@exemple.fr/x/", "/…"),
        ("/", "/"),
    ],
)
def test_a_path_becomes_its_route(path, route):
    got = route_of(path)
    if route is None:  # the password reset route, whatever its exact name
        assert got.startswith("/compte/") and "cf8xzz" not in got and "<token>" in got
    else:
        assert got == route


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (TOKEN, "[token]"),
        ("cf8xzz-0123456789abcdef0123456789abcdef", "[token]"),
        ("amt_1a2b3c4d_Xq3vR9kLmN0pQ2sT4uV6wX8yZ0aB2cD4eF6gH8iJ0kL", "[token]"),
        ("josiane.lefebvre@exemple.fr", "[email]"),
        ("Camille+CPTS@mairie-lievin.fr", "[email]"),
        ("184127645108946", "[nir]"),
        ("1 84 12 76 451 089 46", "[nir]"),
        ("2 69 05 2A 123 456 12", "[nir]"),
        ("1841276451089", "[nir]"),
        ("06 12 34 56 78", "[phone]"),
        ("06.12.34.56.78", "[phone]"),
        ("06-12-34-56-78", "[phone]"),
        ("0612345678", "[phone]"),
        ("+33612345678", "[phone]"),
        ("+33 6 12 34 56 78", "[phone]"),
        ("+33 (0)6 12 34 56 78", "[phone]"),
        ("0033 6 12 34 56 78", "[phone]"),
        ("+262 692 12 34 56", "[phone]"),
    ],
)
def test_each_kind_is_masked(text, kind):
    masked = mask(f"avant {text} après")
    assert masked == f"avant {kind} après"


def test_ordinary_log_lines_are_left_alone():
    for line in (
        "outbox : 3 pris, 2 envoyés, 0 à réessayer, 1 abandonnés, 0 rendus",
        "geocoding outcome=found source=address attempts=1 duration_ms=12",
        "intake: request 42 created (channel public)",
        "2026-12-03 10:53:07,123 tâche purge : ok 12",
        "worker démarré (intervalle 5.0 s, lot 100) 127.0.0.1:8000",
    ):
        assert mask(line) == line


def test_query_strings_are_dropped_from_urls():
    text = "GET https://api-adresse.data.gouv.fr/search/?q=12+rue+Jean+Jaur%C3%A8s&limit=5 OK"
    assert mask(text) == "GET https://api-adresse.data.gouv.fr/search/ OK"


def record(name, msg, *args, exc_info=None):
    return logging.LogRecord(name, logging.WARNING, __file__, 1, msg, args, exc_info)


def test_the_filter_rewrites_message_args_and_exception():
    try:
        raise ValueError("duplicate key (email)=(josiane.lefebvre@exemple.fr)")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    rec = record("django.request", "Not Found: %s", f"/suivi/{TOKEN}/choix/?tel=0612345678")
    rec.exc_info = exc_info
    assert ScrubFilter().filter(rec) is True
    assert rec.getMessage() == "Not Found: /suivi/<token>/choix/"
    assert rec.args == ()
    assert "josiane" not in rec.exc_text and "[email]" in rec.exc_text
    assert rec.exc_info is None
    formatted = logging.Formatter("%(message)s").format(rec)
    assert TOKEN not in formatted and "josiane" not in formatted


def test_runserver_request_lines_show_the_route():
    rec = record("django.server", '"%s" %s %s', f"GET /suivi/{TOKEN}/?a=b HTTP/1.1", "404", "12")
    ScrubFilter().filter(rec)
    assert rec.getMessage() == '"GET /suivi/<token>/ HTTP/1.1" 404 12'


def test_application_loggers_keep_file_paths_but_lose_tokens():
    rec = record("accesmt.directory.rpps", "import %s : lien %s", "/var/rpps/extrait.csv", TOKEN)
    ScrubFilter().filter(rec)
    assert rec.getMessage() == "import /var/rpps/extrait.csv : lien [token]"


def test_every_configured_handler_carries_the_filter():
    handlers = [h for h in logging.getLogger().handlers if h.get_name()]
    handlers += [
        h
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
        for h in logger.handlers
        if h.get_name()
    ]
    assert handlers, "no handler configured from LOGGING"
    for handler in handlers:
        assert any(isinstance(f, ScrubFilter) for f in handler.filters), handler.get_name()
    for name in ("django", "django.server", "django.request", "django.security.csrf"):
        logger = logging.getLogger(name)
        assert not logger.handlers and logger.propagate, name


def test_scrubbing_twice_changes_nothing():
    once = scrub(f'"GET /suivi/{TOKEN}/choix/?x=1 HTTP/1.1" 404 /wp-admin/x.php', web=True)
    assert once == '"GET /suivi/<token>/choix/ HTTP/1.1" 404 /wp-admin/…'
    assert scrub(once, web=True) == once
