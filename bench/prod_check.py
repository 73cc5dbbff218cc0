"""`make prod-check`: the production stack started on this machine, a smoke journey through HTTP
only, everything stopped. Exits 0 when every step passed, 1 otherwise (2 on Ctrl-C).

1. the stack (bench/stack.py): PostgreSQL (a cluster of its own on port 55433, or DATABASE_URL
   when it is a PostgreSQL URL), migrate + createcachetable, load_communes, a CPTS over four
   communes around Liévin with three GPs accepting new patients and a coordinator with a second
   factor (TOTP); gunicorn with the production settings (3 workers), TWO outbox workers
   (`run_worker`), TWO task workers (`db_worker`), the SMTP sink writing .eml files;
2. the journey, every step through HTTP and the links of the real e-mails: three people
   register on the public form and get their acknowledgment e-mail (follow-up link); the
   coordinator logs in (password, then the TOTP code) and verifies the three requests, then
   asks GPs for the first one; each GP answers « J'accepte » through the signed link of their
   e-mail; the person gets the offer e-mail, opens the follow-up page, the choice page, and
   chooses; an allocation run is started from its page and its progress page is followed until
   « Terminée » (the task workers run it); GET /healthz says ok with the workers alive.

    make prod-check                                    # ≈ 1 to 2 min on a loaded 2-core machine
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/accesmt_prodcheck make prod-check

Each step prints its duration. Logs of every process: var/prod-check/*.log, e-mails received:
var/prod-check/mails/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import COMMUNES, ROOT, Stack  # noqa: E402
from web_client import Browser, Mailbox, Page, totp  # noqa: E402

CPTS_SLUG = "prod-check"

# Run by `manage.py shell -c` with the production settings (load_demo refuses them).
SETUP = """
from django_otp.plugins.otp_totp.models import TOTPDevice
from accesmt.accounts.models import Membership, User
from accesmt.directory.services import declaration_create, practitioner_create_manual
from accesmt.territory.models import CPTS, Commune, TerritoryCommune

for slug in {slugs!r}:
    cpts, _ = CPTS.objects.get_or_create(slug=slug, defaults={{"name": "CPTS " + slug}})
    communes = [Commune.objects.get(departement="62", name=name) for name in {names!r}]
    if slug == {slugs!r}[0]:
        for commune in communes:
            TerritoryCommune.objects.get_or_create(commune=commune, defaults={{"cpts": cpts}})
        for index, email in enumerate({gps!r}):
            commune = communes[index % len(communes)]
            gp = practitioner_create_manual(
                last_name="Medecin" + "abcdefgh"[index], first_name="Claude", civility="Dr",
                email=email,
                site={{"address_line1": f"{{index + 1}} place de la Gare", "commune": commune,
                       "postcode": commune.postal_codes.order_by("code").first().code,
                       "commune_name": commune.name, "latitude": commune.latitude,
                       "longitude": commune.longitude}},
            )
            declaration_create(
                practitioner=gp, cpts=cpts, accepting="yes", listing="professionals",
                source="coordinator", monthly_capacity=10, accepts_aged_70_plus=True,
                accepts_children_under_6=True, accepts_ald=True, accepts_css_ame=True,
                accepts_households=True,
            )
    user = User.objects.filter(email={coordinator!r}).first() or User.objects.create_user(
        {coordinator!r}, {password!r}, first_name="Camille", last_name="Coordination"
    )
    Membership.objects.get_or_create(user=user, cpts=cpts, defaults={{"role": "coordinator"}})
TOTPDevice.objects.get_or_create(
    user=user, defaults={{"name": "prod-check", "key": {key!r}, "confirmed": True}}
)
"""


class Failed(Exception):
    pass


def check(condition, message: str) -> None:
    if not condition:
        raise Failed(message)


def setup(stack: Stack, *, slugs: list[str], run: str) -> dict:
    """The data of the journey; returns the accounts and addresses it uses."""
    world = {
        "slugs": slugs,
        "coordinator": f"coordination.{run}@prod-check.example",
        "password": secrets.token_urlsafe(18),
        "key": secrets.token_hex(20),
        "gps": [f"dr{i}.{run}@prod-check.example" for i in range(3)],
    }
    stack.manage(
        "shell",
        "-c",
        SETUP.format(names=[n for n, _ in COMMUNES], **world),
    )
    return world


def register(
    browser: Browser, email: str, *, birth_year: int, slug=CPTS_SLUG, at=0, post_at=None
) -> str:
    """The public form, as a person sends it (read on web process `at`, sent to `post_at`, the
    same by default); the reference of the acknowledgment page."""
    page = browser.get(f"/{slug}/inscription/", at=at)
    at = at if post_at is None else post_at
    check(page.status == 200, f"formulaire public : {page.status}")
    name, postcode = COMMUNES[birth_year % len(COMMUNES)]
    values = {
        "email": email,
        "phone": "",
        "address": f"{birth_year % 90 + 1} rue Jean Jaurès",
        "postcode": postcode,
        "commune_name": name,
        "reason": "mt_retired",
        "coverage": "regime_general",
        "consent_processing": "on",
        "consent_sharing": "on",
        "membres-0-first_name": "Camille",
        "membres-0-last_name": "Verification",
        "membres-0-birth_date": f"{birth_year}-03-14",
        "membres-0-home_visits": "never",
    }
    done = browser.submit(page, "Envoyer ma demande", values, at=at)
    check(
        done.url.endswith("/inscription/merci/") and done.status == 200,
        f"inscription refusée ({done.status} {done.url})",
    )
    reference = re.search(r"data-reference[^>]*>\s*([^<\s]+)", done.text)
    check(reference is not None, "pas de référence sur la page d'accusé de réception")
    return reference.group(1)


def log_in(browser: Browser, email: str, password: str, key: str, *, at=0) -> Page:
    page = browser.get("/compte/connexion/", at=at)
    page = browser.submit(page, "Se connecter", {"username": email, "password": password}, at=at)
    check(
        "/verification/" in page.url, f"pas de demande de code après le mot de passe : {page.url}"
    )
    page = browser.submit(page, "Valider", {"code": totp(key)}, at=at)
    check(page.status == 200 and "/espace/" in page.url, f"code refusé ({page.status} {page.url})")
    return page


def request_path(slug: str, reference: str) -> str:
    return f"/espace/{slug}/demandes/{reference}/"


def verify(browser: Browser, slug: str, reference: str, *, at=0) -> None:
    page = browser.get(request_path(slug, reference), at=at)
    check(page.status == 200, f"page de la demande : {page.status}")
    page = browser.submit(page, "Demande vérifiée", at=at)
    check("en attente d'un médecin" in page.plain, f"vérification de {reference} sans effet")


def follow_operation(browser: Browser, page: Page, *, timeout: float = 120.0, at=0) -> Page:
    """Re-read the progress page (as its refresh does) until the operation is done or failed."""
    deadline = time.monotonic() + timeout
    while True:
        status = re.search(r'data-operation="(\w+)"', page.text)
        check(status is not None, f"pas une page d'avancement : {page.url}")
        if status.group(1) in ("done", "failed"):
            return page
        check(time.monotonic() < deadline, f"opération toujours « {status.group(1)} »")
        time.sleep(0.5)
        page = browser.get(page.url, at=at)


def healthz(browser: Browser, *, at=0) -> dict:
    return json.loads(browser.get("/healthz", at=at).text)


def wait_healthy(browser: Browser, *, workers: int, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        health = healthz(browser)
        if (
            health.get("status") == "ok"
            and health["workers"]["alive"] >= workers
            and health["task_workers"]["alive"] >= 1  # the minute's heartbeat task: one runs it
        ):
            return health
        if time.monotonic() > deadline:
            raise Failed(f"/healthz : {health}")
        time.sleep(0.5)


def journey(stack: Stack, world: dict, step) -> None:
    mailbox = Mailbox(stack.mail_dir)
    run = uuid.uuid4().hex[:6]
    person = f"personne.{run}@prod-check.example"
    slug = CPTS_SLUG
    public = Browser(stack.base_url, ip="10.1.0.1")
    coordinator = Browser(stack.base_url, ip="10.2.0.1")
    try:
        with step("/healthz : base, workers (outbox) et task workers vivants"):
            health = wait_healthy(public, workers=2)
            print(f"      {json.dumps(health, ensure_ascii=False)}")
        with step("inscription sur le formulaire public (3 personnes)"):
            references = [register(public, person, birth_year=1948)]
            for index in (1, 2):
                other = Browser(stack.base_url, ip=f"10.1.0.{1 + index}")
                references.append(
                    register(
                        other, f"autre{index}.{run}@prod-check.example", birth_year=1950 + index
                    )
                )
                other.close()
        with step("e-mail d'accusé de réception → page de suivi"):
            followup = mailbox.wait_for_link(person, r"/suivi/[^/]+/$")
            page = public.get(followup)
            check(page.status == 200 and references[0] in page.text, "page de suivi")
        with step("connexion de la coordination (mot de passe + code TOTP)"):
            log_in(coordinator, world["coordinator"], world["password"], world["key"])
        with step("vérification des trois demandes"):
            for reference in references:
                verify(coordinator, slug, reference)
        with step("sollicitation des médecins"):
            page = coordinator.get(request_path(slug, references[0]) + "orientation/")
            page = coordinator.submit(page, "Solliciter les premiers de la liste")
            asked = re.search(r"(\d+) médecin\(s\) sollicité\(s\)", page.plain)
            check(asked is not None, f"sollicitation sans effet ({page.status})")
            print(f"      {asked.group(0)}")
        with step("réponse des médecins par le lien signé de leur e-mail"):
            accepted = 0
            for gp in world["gps"][: int(asked.group(1))]:
                link = mailbox.wait_for_link(gp, r"/orientation/[^/]+/$")
                doctor = Browser(stack.base_url, ip="10.3.0.1")
                page = doctor.get(link)
                if any(f.button("J'accepte ce foyer") for f in page.forms()):
                    page = doctor.submit(page, "J'accepte ce foyer")
                    check("vous avez accepté ce foyer" in page.plain, "réponse du médecin")
                    accepted += 1
                doctor.close()
            check(accepted >= 1, "aucun médecin n'a pu accepter")
            print(f"      {accepted} acceptation(s)")
        with step("e-mail des médecins proposés → choix de la personne"):
            mailbox.wait_for_count(person, 2)  # the acknowledgment, then the offer
            page = public.get(mailbox.wait_for_link(person, r"/suivi/[^/]+/$"))
            choice = page.links(r"/suivi/[^/]+/choix/$")
            check(choice, "pas de lien vers le choix du médecin sur la page de suivi")
            page = public.get(choice[0])
            form = page.form("Enregistrer mon choix")
            practitioner = form.options.get("practitioner", [])
            check(practitioner, "aucun médecin à choisir")
            page = public.post_form(
                form, page.url, "Enregistrer mon choix", {"practitioner": practitioner[0]}
            )
            check("Votre choix est enregistré" in page.plain, f"choix refusé ({page.status})")
        with step("répartition lancée depuis sa page, suivie jusqu'à la fin (task workers)"):
            page = coordinator.get(f"/espace/{slug}/repartition/")
            page = coordinator.submit(page, "Calculer la répartition")
            check(
                re.search(r"/operations/\d+/$", page.url), f"pas de page d'avancement: {page.url}"
            )
            page = follow_operation(coordinator, page)
            check('data-operation="done"' in page.text, "la répartition a échoué")
            summary = re.search(r"data-summary>([^<]+)", page.plain)
            print(f"      {summary.group(1).strip() if summary else ''}")
        with step("/healthz : ok, plus rien à distribuer"):
            health = wait_healthy(public, workers=2)
            print(f"      {json.dumps(health, ensure_ascii=False)}")
    finally:
        public.close()
        coordinator.close()


class Steps:
    def __init__(self):
        self.failed = False
        self.started = time.monotonic()

    def __call__(self, title: str):
        steps = self

        class Step:
            def __enter__(self):
                self.t0 = time.monotonic()
                print(f"→ {title}", flush=True)

            def __exit__(self, kind, exc, tb):
                took = time.monotonic() - self.t0
                if kind is None:
                    print(f"  ok ({took:.1f} s)", flush=True)
                    return False
                if issubclass(kind, Failed | TimeoutError | AssertionError):
                    print(f"  ÉCHEC ({took:.1f} s) : {exc}", flush=True)
                    steps.failed = True
                return False

        return Step()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--web-workers", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    external = url if url.startswith("postgres") else None
    log_dir = ROOT / "var" / "prod-check"
    shutil.rmtree(log_dir / "mails", ignore_errors=True)
    for log in log_dir.glob("*.log"):
        log.unlink()
    steps = Steps()
    stack = Stack(web_workers=args.web_workers, database_url=external, log_dir=log_dir)
    try:
        with stack:
            with steps(
                f"PostgreSQL ({'DATABASE_URL' if external else 'cluster propre, port 55433'})"
            ):
                stack.start_postgres(durable=False)
            with steps("migrate + createcachetable + collectstatic"):
                stack.migrate()
            with steps("données : communes, une CPTS, trois médecins, une coordinatrice"):
                stack.manage("load_communes")
                world = setup(stack, slugs=[CPTS_SLUG], run=uuid.uuid4().hex[:6])
            with steps(
                f"gunicorn ({args.web_workers} workers), 2 outbox workers, 2 task workers, SMTP"
            ):
                if not external:
                    stack.restart_postgres(durable=True)
                stack.start_smtp()
                for name in ("worker", "worker-2"):
                    stack.start_worker(name)
                for name in ("tasks", "tasks-2"):
                    stack.start_task_worker(name)
                stack.start_web()
            journey(stack, world, steps)
            for name in ("worker", "worker-2", "tasks", "tasks-2", "gunicorn"):
                if not stack.alive(name):
                    print(f"  ÉCHEC : le processus {name} s'est arrêté (voir {log_dir}/{name}.log)")
                    steps.failed = True
    except KeyboardInterrupt:
        print("\nInterrompu : tout est arrêté.")
        return 2
    except Exception as exc:  # noqa: BLE001 — reported as a failure of the check
        if not steps.failed:
            print(f"  ÉCHEC : {type(exc).__name__}: {exc}")
        steps.failed = True
    total = time.monotonic() - steps.started
    if steps.failed:
        print(f"prod-check : ÉCHEC en {total:.0f} s (journaux : {log_dir})")
        return 1
    print(f"prod-check : tout est passé en {total:.0f} s ; tout est arrêté.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
