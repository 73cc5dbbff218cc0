"""RPPS import on a national-size file (issue 4, "Import of the national directory").

Generates, in a temporary folder, a `PS_LibreAcces_Personne_activite` file in the real format
(56 columns, `|`-separated with a trailing `|`, UTF-8): 2,000,000 lines and about 800 MB by
default, of which about 5 % are GP lines (savoir-faire SM26/SM53/SM54), spread over the communes
of France by population, with a small share in the platform's one CPTS (25 communes of the
Pas-de-Calais) and a third of the lines without an INSEE code (postal-code fallback). Then, in the
same run:

1. reads the file with Python's `csv` module alone (delimiter `|`, no quoting), the reference;
2. runs the real import (`accesmt.directory.rpps.rpps_import`) into a temporary SQLite database
   (or DATABASE_URL when set), sampling the resident memory at every progress tick.

Prints rows/s, the times and the ratio import / csv (target ≤ 2), and the resident memory after
200,000 lines and at the end of the file (flat when they are close).

`--national` (issue 15): the platform's CPTS cover every commune of France (one CPTS per
département), so every GP line of the file is in scope (about 100,000 GPs for 2 M lines). The
run then measures a first import, a re-import of the same file (nothing to write) and a
re-import of a copy with 1 % of the GP lines changed and 0.2 % gone, each with its phases, its
ratio to the csv read time (target ≤ 1.5) and the peak resident memory before and after. The
GPs new to the directory are written while the file is read (on PostgreSQL by the writer's
thread): "lecture" includes that, "écriture après la lecture" is what remains once the file is
read; the phases "préparation" and "nouveaux, pendant la lecture" overlap the read.
`--postgres` runs it on PostgreSQL (database accesmt_bench_rpps_national, dropped and created).

    .venv/bin/python bench/bench_rpps_import.py [--rows 2000000] [--national] [--postgres] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMMUNES = ROOT / "accesmt" / "territory" / "data" / "communes.csv.gz"
HEADER = (
    "Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité d'exercice|"
    "Libellé civilité d'exercice|Code civilité|Libellé civilité|Nom d'exercice|"
    "Prénom d'exercice|Code profession|Libellé profession|Code catégorie professionnelle|"
    "Libellé catégorie professionnelle|Code type savoir-faire|Libellé type savoir-faire|"
    "Code savoir-faire|Libellé savoir-faire|Code mode exercice|Libellé mode exercice|"
    "Numéro SIRET site|Numéro SIREN site|Numéro FINESS site|"
    "Numéro FINESS établissement juridique|Identifiant technique de la structure|"
    "Raison sociale site|Enseigne commerciale site|Complément destinataire (coord. structure)|"
    "Complément point géographique (coord. structure)|Numéro Voie (coord. structure)|"
    "Indice répétition voie (coord. structure)|Code type de voie (coord. structure)|"
    "Libellé type de voie (coord. structure)|Libellé Voie (coord. structure)|"
    "Mention distribution (coord. structure)|Bureau cedex (coord. structure)|"
    "Code postal (coord. structure)|Code commune (coord. structure)|"
    "Libellé commune (coord. structure)|Code pays (coord. structure)|"
    "Libellé pays (coord. structure)|Téléphone (coord. structure)|"
    "Téléphone 2 (coord. structure)|Télécopie (coord. structure)|"
    "Adresse e-mail (coord. structure)|Code Département (structure)|"
    "Libellé Département (structure)|Ancien identifiant de la structure|"
    "Autorité d'enregistrement|Code secteur d'activité|Libellé secteur d'activité|"
    "Code section tableau pharmaciens|Libellé section tableau pharmaciens|Code rôle|"
    "Libellé rôle|Code genre activité|Libellé genre activité|"
)
PLATFORM_COMMUNES = 25
GP_SHARE = 0.05
OTHER_DOCTOR_SHARE = 0.15
PLATFORM_SHARE_OF_GPS = 0.02
POOL = 6000

SURNAMES = "MARTIN BERNARD DUBOIS THOMAS ROBERT RICHARD PETIT DURAND LEROY MOREAU SIMON LAURENT \
LEFEBVRE MICHEL GARCIA DAVID BERTRAND ROUX VINCENT FOURNIER MOREL GIRARD ANDRE LEFÈVRE MERCIER \
DUPONT LAMBERT BONNET FRANÇOIS MARTINEZ".split()
FIRST_NAMES = "Marie Jean Pierre Michel Philippe Nathalie Isabelle Sylvie Catherine Hélène \
Frédéric Stéphane Céline Aurélie Julien Élodie Chloé Léa Noémie Jérôme".split()
STREETS = "DE LA GARE|JEAN JAURES|DE LA REPUBLIQUE|VICTOR HUGO|DU GENERAL DE GAULLE|PASTEUR|\
DES ECOLES|DE L'EGLISE|GAMBETTA|DU 8 MAI 1945|EMILE ZOLA|DE PARIS".split("|")
OTHER_PROFESSIONS = [
    ("60", "Infirmier", "", ""),
    ("21", "Pharmacien", "", ""),
    ("70", "Masseur-Kinésithérapeute", "", ""),
    ("40", "Chirurgien-Dentiste", "SCD01", "Orthopédie dento-faciale"),
    ("50", "Sage-Femme", "", ""),
    ("91", "Orthophoniste", "", ""),
    ("96", "Psychologue", "", ""),
]
OTHER_SPECIALTIES = [
    ("SM04", "Cardiologie et maladies vasculaires"),
    ("SM15", "Dermatologie et vénéréologie"),
    ("SM40", "Pédiatrie"),
    ("SM38", "Ophtalmologie"),
    ("SM02", "Anesthesie-réanimation"),
    ("SM42", "Psychiatrie"),
    ("SM54", "Médecine Générale"),  # only for the GP kind, see below
][:-1]
GP_SPECIALTIES = [("SM54", "Médecine Générale")] * 8 + [
    ("SM53", "Spécialiste en Médecine Générale"),
    ("SM26", "Qualifié en Médecine Générale"),
]
SECTORS = [
    ("SA07", "Cabinet individuel"),
    ("SA08", "Cabinet de groupe"),
    ("SA09", "Exercice en société"),
    ("SA05", "Centre de santé"),
    ("SA01", "Etablissement public de santé"),
]


def read_communes():
    """(insee, name, departement, population, first postal code) of every commune."""
    rows = []
    with gzip.open(COMMUNES, "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            postcodes = row["postal_codes"].split()
            if not postcodes:
                continue
            population = max(int(row["population"] or 0), 1)
            rows.append((row["insee"], row["name"], row["departement"], population, postcodes[0]))
    return rows


def rest_of_line(rng, kind, commune, structure):
    """Everything after 'Identification nationale PP|': 53 fields and the trailing '|'."""
    insee, name, departement, _, postcode = commune
    if kind == "gp":
        profession, profession_label = "10", "Médecin"
        savoir_faire, savoir_faire_label = rng.choice(GP_SPECIALTIES)
    elif kind == "doctor":
        profession, profession_label = "10", "Médecin"
        savoir_faire, savoir_faire_label = rng.choice(OTHER_SPECIALTIES)
    else:
        profession, profession_label, savoir_faire, savoir_faire_label = rng.choice(
            OTHER_PROFESSIONS
        )
    type_savoir_faire = ("S", "Spécialité ordinale") if savoir_faire else ("", "")
    sector = rng.choice(SECTORS)
    upper = name.upper()
    with_code = rng.random() > 0.35
    siret = f"{rng.randrange(10**13, 10**14)}"
    fields = [
        "DR" if profession == "10" else "",
        "Docteur" if profession == "10" else "",
        rng.choice(("M", "MME")),
        rng.choice(("Monsieur", "Madame")),
        rng.choice(SURNAMES),
        rng.choice(FIRST_NAMES),
        profession,
        profession_label,
        "C",
        "Civil",
        *type_savoir_faire,
        savoir_faire,
        savoir_faire_label,
        "L",
        "Libéral",
        siret,
        siret[:9],
        "",
        "",
        f"S{siret}",
        f"CABINET MEDICAL {rng.choice(STREETS)}",
        "",
        rng.choice(("", "", "RESIDENCE LES TILLEULS", "BATIMENT B")),
        "",
        str(rng.randrange(1, 200)),
        rng.choice(("", "", "", "B")),
        "R",
        "Rue",
        rng.choice(STREETS),
        "",
        f"{postcode} {upper}",
        postcode,
        insee if with_code else "",
        upper if with_code else "",
        "99000",
        "France",
        f"03{rng.randrange(10**7, 10**8)}",
        "",
        f"03{rng.randrange(10**7, 10**8)}",
        rng.choice(("", "", f"cabinet{structure}@example.org")),
        departement,
        f"Département {departement}",
        f"1{siret}",
        "CNOM/CNOM/CNOM",
        *sector,
        "",
        "",
        "FON-01",
        "Titulaire de cabinet",
        "GENR01",
        "Activité standard de soin ou de pharmacien",
    ]
    assert len(fields) == 53, len(fields)
    return "|".join(fields) + "|\n"


def generate(
    path: Path, rows: int, seed: int = 4, national: bool = False
) -> tuple[list[str], float]:
    """Write the file; return the INSEE codes of the platform's communes and the seconds."""
    started = time.monotonic()
    rng = random.Random(seed)
    communes = read_communes()
    mainland = [c for c in communes if c[2] < "97"]
    platform = [c for c in communes if c[2] == "62"][:PLATFORM_COMMUNES]
    cumulative = list(itertools.accumulate(c[3] for c in mainland))

    def draw():
        return rng.choices(mainland, cum_weights=cumulative)[0]

    pools = {
        "gp": [
            rest_of_line(
                rng,
                "gp",
                rng.choice(platform)
                if not national and rng.random() < PLATFORM_SHARE_OF_GPS
                else draw(),
                n,
            )
            for n in range(POOL)
        ],
        "doctor": [rest_of_line(rng, "doctor", draw(), n) for n in range(POOL)],
        "other": [rest_of_line(rng, "other", draw(), n) for n in range(POOL)],
    }
    kinds = ["gp"] * int(GP_SHARE * 1000) + ["doctor"] * int(OTHER_DOCTOR_SHARE * 1000)
    kinds += ["other"] * (1000 - len(kinds))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER + "\n")
        batch = []
        for n in range(rows):
            rpps = 10000000000 + n * 3 // 4  # a quarter of the people have two lines
            rest = rng.choice(pools[rng.choice(kinds)])
            batch.append(f"8|{rpps}|8{rpps}|{rest}")
            if len(batch) == 20000:
                fh.write("".join(batch))
                batch.clear()
        fh.write("".join(batch))
    return [c[0] for c in platform], time.monotonic() - started


def changed_copy(path: Path, changed: Path, seed: int = 15) -> tuple[int, int]:
    """Copy the file with 1 % of its GP lines changed (another structure name) and 0.2 % left
    out (GPs gone); return (changed, dropped)."""
    rng = random.Random(seed)
    markers = (b"|SM26|", b"|SM53|", b"|SM54|")
    n_changed = n_dropped = 0
    with open(path, "rb") as src, open(changed, "wb") as dst:
        dst.write(src.readline())
        for raw in src:
            if any(m in raw for m in markers):
                draw = rng.random()
                if draw < 0.002:
                    n_dropped += 1
                    continue
                if draw < 0.012:
                    n_changed += 1
                    raw = raw.replace(b"|CABINET MEDICAL ", b"|CENTRE MEDICAL ", 1)
            dst.write(raw)
    return n_changed, n_dropped


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Current resident memory (Linux /proc), else the peak from getrusage."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_csv(path: Path) -> tuple[int, float]:
    started = time.monotonic()
    rows = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for _ in csv.reader(fh, delimiter="|", quoting=csv.QUOTE_NONE):
            rows += 1
    return rows - 1, time.monotonic() - started


PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "accesmt_bench_rpps_national"


def create_pg_database() -> str:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    return f"{PG_SERVER}/{PG_DATABASE}"


def setup_django(tmp: Path, postgres: bool = False) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    if postgres:
        os.environ["DATABASE_URL"] = create_pg_database()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed_import(label: str, path: Path, csv_seconds: float, **options):
    """Run one import, print its phases, ratio and memory; return the report."""
    from accesmt.directory import rpps

    samples: list[tuple[int, float]] = []

    def progress(lines: int, done: int, total: int) -> None:
        samples.append((lines, rss_mb()))

    rss_before, peak_before = rss_mb(), peak_mb()
    started = time.monotonic()
    report = rpps.rpps_import(path, progress=progress, **options)
    seconds = time.monotonic() - started
    peak_after = peak_mb()
    at_200k = next((mb for lines, mb in samples if lines >= 200_000), samples[0][1])
    phases = ", ".join(
        f"{name} {value:.2f} s" for name, value in getattr(report, "phases", {}).items()
    )
    print(f"{label} : {seconds:.2f} s, {report.lines_read / seconds:,.0f} lignes/s")
    print(
        f"  lecture {report.read_seconds:.2f} s, écriture après la lecture "
        f"{report.apply_seconds:.2f} s" + (f" ({phases})" if phases else "")
    )
    print(
        f"  médecins : {report.practitioners_created:,} créés, {report.practitioners_updated:,} "
        f"mis à jour, {report.practitioners_unchanged:,} inchangés, "
        f"{report.practitioners_gone:,} partis ; lieux : {report.sites_created:,} créés, "
        f"{report.sites_updated:,} mis à jour, {report.sites_gone:,} fermés ; "
        f"refusées {report.rejected:,}"
    )
    print(f"  rapport import / csv : {seconds / csv_seconds:.2f} (cible ≤ 1,5)")
    print(
        f"  mémoire résidente : {rss_before:.0f} Mo avant, {at_200k:.0f} Mo après 200 000 "
        f"lignes, {samples[-1][1]:.0f} Mo en fin de lecture, {rss_mb():.0f} Mo à la fin ; "
        f"pic {peak_before:.0f} → {peak_after:.0f} Mo (+{peak_after - peak_before:.0f} Mo)"
    )
    return report


def main_national(tmp: Path, rows: int, postgres: bool) -> None:
    path = tmp / "ps-libreacces-personne-activite.txt"
    _, generated = generate(path, rows, national=True)
    changed = tmp / "ps-libreacces-personne-activite-modifie.txt"
    n_changed, n_dropped = changed_copy(path, changed)
    size = path.stat().st_size
    print(f"Fichier : {rows:,} lignes, {size / 2**20:,.0f} Mo, généré en {generated:.1f} s")

    setup_django(tmp, postgres)
    from django.db import connection

    from accesmt.directory.models import Practitioner
    from accesmt.territory.models import Commune
    from accesmt.territory.services import communes_load, cpts_create

    print(f"Base : {connection.vendor}")
    started = time.monotonic()
    communes_load()
    by_departement: dict[str, list[str]] = {}
    for insee, departement in Commune.objects.values_list("pk", "departement"):
        by_departement.setdefault(departement, []).append(insee)
    for departement, codes in sorted(by_departement.items()):
        cpts_create(name=f"CPTS {departement}", slug=f"cpts-{departement}", insee_codes=codes)
    print(
        f"{sum(map(len, by_departement.values())):,} communes, {len(by_departement)} CPTS "
        f"(une par département), chargées en {time.monotonic() - started:.1f} s"
    )
    csv_rows, csv_seconds = time_csv(path)
    print(f"Module csv seul : {csv_rows:,} lignes en {csv_seconds:.2f} s")
    timed_import("Premier import", path, csv_seconds)
    print(f"  ({Practitioner.objects.count():,} médecins en base)")
    timed_import("Réimport du même fichier", path, csv_seconds)
    print(f"Copie modifiée : {n_changed:,} lignes MG changées, {n_dropped:,} retirées")
    timed_import("Réimport avec 1 % de changements", changed, csv_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--national", action="store_true", help="CPTS covering every commune of France"
    )
    parser.add_argument("--postgres", action="store_true", help=f"PostgreSQL ({PG_DATABASE})")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-rpps-"))
    try:
        if args.national:
            main_national(tmp, args.rows, args.postgres)
            return
        path = tmp / "ps-libreacces-personne-activite.txt"
        platform, generated = generate(path, args.rows)
        size = path.stat().st_size
        print(
            f"Fichier : {args.rows:,} lignes, {size / 2**20:,.0f} Mo, généré en {generated:.1f} s"
        )

        setup_django(tmp, args.postgres)
        from accesmt.directory import rpps
        from accesmt.directory.models import Practitioner
        from accesmt.territory.services import communes_load, cpts_create

        started = time.monotonic()
        communes_load()
        cpts_create(name="CPTS banc d'essai", slug="banc", insee_codes=platform)
        print(f"Référentiel des communes chargé en {time.monotonic() - started:.1f} s")

        csv_rows, csv_seconds = time_csv(path)
        print(f"Module csv seul : {csv_rows:,} lignes en {csv_seconds:.2f} s")

        samples: list[tuple[int, float]] = []

        def progress(lines: int, done: int, total: int) -> None:
            samples.append((lines, rss_mb()))

        rss_before = rss_mb()
        started = time.monotonic()
        report = rpps.rpps_import(path, progress=progress)
        seconds = time.monotonic() - started
        at_200k = next((mb for lines, mb in samples if lines >= 200_000), samples[0][1])
        at_end = samples[-1][1]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"Import : {report.lines_read:,} lignes en {seconds:.2f} s "
            f"(lecture {report.read_seconds:.2f} s, écriture après {report.apply_seconds:.2f} s), "
            f"{report.lines_read / seconds:,.0f} lignes/s"
        )
        print(
            f"  lignes MG {report.gp_rows:,}, dans le périmètre {report.rows_in_scope:,}, "
            f"médecins créés {report.practitioners_created:,}, lieux {report.sites_created:,}, "
            f"refusées {report.rejected:,}"
        )
        print(f"Rapport import / csv : {seconds / csv_seconds:.2f} (cible ≤ 2)")
        print(
            f"Mémoire résidente : {rss_before:.0f} Mo avant, {at_200k:.0f} Mo après 200 000 "
            f"lignes, {at_end:.0f} Mo en fin de fichier ; pic du processus {peak:.0f} Mo"
        )
        started = time.monotonic()
        again = rpps.rpps_import(path)
        print(
            f"Réimport du même fichier : {time.monotonic() - started:.2f} s, "
            f"{again.practitioners_unchanged:,} inchangés, {again.practitioners_created} créés "
            f"({Practitioner.objects.count():,} médecins en base)"
        )
    finally:
        if args.keep:
            print(f"Dossier conservé : {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
