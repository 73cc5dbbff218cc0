"""Import of a CPAM list of 10,000 people (issue 12, "import of a CPAM list").

Generates a CSV as Excel France saves it (Windows-1252, `;`-separated) with the documented
columns: names, birth dates (80 % aged 60 and more), addresses in the 25 communes of a CPTS of
the Pas-de-Calais, a mobile for 60 % of the people, an e-mail for 20 % more, neither for the rest
(told by letter), a valid NIR for half of them, ALD for 80 %, CSS for 15 %, a usual GP for a
third; plus 1 % of lines refused (impossible birth date) and 1 % given twice. Then, into a
temporary SQLite database (or DATABASE_URL when set):

1. the preview (read + check every line, nothing written), with its number of queries;
2. the import (read + check again + write in one transaction), with its number of queries, and
   the same for a list ten times smaller first: the queries do not grow with the people (bulk
   inserts of 500 rows, messages included).

Target: the import of 10,000 lines in under 30 s on SQLite.

    .venv/bin/python bench/bench_cpam_import.py [--rows 10000] [--keep]
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Liévin and its neighbours (Pas-de-Calais).
INSEE = (
    "62510 62032 62498 62291 62119 62065 62160 62186 62201 62250 62276 62427 62443 62449 "
    "62453 62475 62488 62563 62587 62637 62724 62764 62766 62861 62892"
).split()
LAST = "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
LAST += "Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre"
FIRST = "Jeanne Marie Paul Jean Michel Monique Françoise André Nicole Pierre Hélène Louis "
FIRST += "Madeleine Gérard Christiane Bernard Josette Daniel Odette René Éliane Guy Simone"
HEADER = (
    "Nom;Prénom;Date de naissance;Sexe;Adresse;Code postal;Commune;Téléphone;E-mail;NIR;ALD;CSS;"
    "Médecin consulté habituellement"
)


def nir_for(rng: random.Random, sex: str, born: datetime.date, insee: str) -> str:
    sex_digit = 1 if sex == "M" else 2
    body = f"{sex_digit}{born.year % 100:02d}{born.month:02d}{insee}{rng.randint(1, 999):03d}"
    return f"{body}{97 - int(body) % 97:02d}"


def generate(path: Path, rows: int, communes: list[tuple[str, str, str]], seed: int = 12) -> None:
    rng = random.Random(seed)
    last_names, first_names = LAST.split(), FIRST.split()
    from django.utils import timezone

    today = timezone.localdate()
    lines = [HEADER]
    for index in range(rows):
        insee, postcode, name = communes[index % len(communes)]
        sex = rng.choice("FM")
        age = rng.randint(60, 95) if rng.random() < 0.8 else rng.randint(1, 59)
        born = today.replace(year=today.year - age, day=1) - datetime.timedelta(rng.randint(0, 300))
        contact = rng.random()
        # 06 10 to 06 38: metropolitan mobiles (06 39 and 06 9x are overseas lines).
        pairs = (rng.randint(10, 38), rng.randint(10, 99), rng.randint(10, 99), index % 100)
        phone = "06 {} {} {} {:02d}".format(*pairs)
        lines.append(
            ";".join(
                (
                    f"{rng.choice(last_names)}-{index}",
                    rng.choice(first_names),
                    "31/02/1950" if index % 100 == 7 else born.strftime("%d/%m/%Y"),
                    sex,
                    f"{rng.randint(1, 200)} rue {rng.choice(last_names)}",
                    postcode,
                    name,
                    phone if contact < 0.6 else "",
                    f"personne{index}@exemple.fr" if 0.6 <= contact < 0.8 else "",
                    nir_for(rng, sex, born, insee) if rng.random() < 0.5 else "",
                    "oui" if rng.random() < 0.8 else "non",
                    "oui" if rng.random() < 0.15 else "non",
                    f"1000{rng.randint(1000000, 9999999)}" if rng.random() < 0.33 else "",
                )
            )
        )
        if index % 100 == 42:
            lines.append(lines[-1])  # the same person twice
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def setup_django(tmp: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-cpam-"))
    try:
        setup_django(tmp)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from accesmt.intake import cpam_lists
        from accesmt.intake.models import Request
        from accesmt.notifications.models import OutboxMessage
        from accesmt.territory.models import Commune
        from accesmt.territory.services import communes_load, cpts_create

        started = time.monotonic()
        communes_load()
        cpts = cpts_create(name="CPTS banc d'essai", slug="banc", insee_codes=INSEE)
        communes = [
            (c.pk, c.postal_codes.order_by("code").first().code, c.name)
            for c in Commune.objects.filter(pk__in=INSEE).prefetch_related("postal_codes")
        ]
        print(f"Référentiel des communes chargé en {time.monotonic() - started:.1f} s")

        def run(rows: int) -> None:
            path = tmp / f"liste-{rows}.csv"
            generate(path, rows, communes)
            data = path.read_bytes()
            print(f"\nListe de {rows:,} personnes ({len(data) / 2**20:.1f} Mo)")
            with CaptureQueriesContext(connection) as preview_queries:
                started = time.monotonic()
                checked = cpam_lists.cpam_list_preview(data, cpts=cpts, campaign_name="Banc")
                preview = time.monotonic() - started
            report = checked.report
            print(
                f"  aperçu (lecture + contrôles) : {preview:.2f} s, "
                f"{len(preview_queries)} requêtes SQL ; {report.line_count:,} lignes : "
                f"{report.accepted_count:,} acceptées, {report.duplicate_count:,} doublons, "
                f"{report.refused_count:,} refusées"
            )
            before = (Request.objects.count(), OutboxMessage.objects.count())
            with CaptureQueriesContext(connection) as import_queries:
                started = time.monotonic()
                cpam_list, report = cpam_lists.cpam_list_import(
                    data,
                    cpts=cpts,
                    campaign_name=f"Banc {rows}",
                    list_date=timezone.localdate() - datetime.timedelta(days=3),
                )
                seconds = time.monotonic() - started
            created = Request.objects.count() - before[0]
            sent = OutboxMessage.objects.count() - before[1]
            print(
                f"  import (lecture + contrôles + écriture) : {seconds:.2f} s "
                f"({report.line_count / seconds:,.0f} lignes/s), {len(import_queries):,} requêtes "
                f"SQL, soit {len(import_queries) / max(created, 1):.2f} par personne importée"
            )
            print(f"  {created:,} demandes et {sent:,} messages (e-mail, SMS, courriers) créés")
            print(f"  objectif < 30 s : {'atteint' if seconds < 30 else 'MANQUÉ'}")

        run(max(args.rows // 10, 10))
        run(args.rows)
    finally:
        if args.keep:
            print(f"Dossier conservé : {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
