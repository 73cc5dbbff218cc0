"""bench_queue's pages at two queue sizes measured alternately, so that both see the same load.

On a shared machine a single `bench_queue.py` run measures the small queue and the large one
minutes apart: their ratio swung from ×0.7 to ×4 on pages nobody had touched. Here both
databases are kept and each page is fetched from one, then from the other, round after round;
the ratio of the medians is taken under the same load. Databases made first:

    .venv/bin/python bench/bench_queue.py --postgres --asked-max 1000 --keep --sizes 1000
    # then renamed: ALTER DATABASE accesmt_bench_queue RENAME TO accesmt_bench_queue_1k
    .venv/bin/python bench/bench_queue.py --postgres --asked-max 1000 --keep
    .venv/bin/python bench/bench_queue_paired.py --small accesmt_bench_queue_1k \
        --large accesmt_bench_queue --rounds 7

The code measured is the tree the script runs from (run it from an export of another commit,
`git archive <commit> | tar -x -C DIR`, to compare two versions on the same databases). Figures:
docs/decisions/0029 (last section).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PAGES = (
    "file, 1re page",
    "demande",
    "orientation",
    "accueil CPTS",
    "recherche nom",
    "à rappeler",
    "foyers à prendre (MG)",
    "foyers (lien d'enquête)",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", required=True, help="database of the small queue")
    parser.add_argument("--large", required=True, help="database of the large queue")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    databases = {"small": args.small, "large": args.large}
    os.environ["DATABASE_URL"] = f"{args.server}/{args.small}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    import bench_queue  # bench/ is on the path
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    def use(which: str) -> None:
        connection.close()
        connection.settings_dict["NAME"] = databases[which]

    from accesmt.accounts.models import User
    from accesmt.directory.models import SurveyInvitation
    from accesmt.directory.survey import invitation_token
    from accesmt.intake.models import Request

    setup = {}
    for which in databases:
        use(which)
        size = Request.objects.count()
        reference = (
            Request.objects.filter(status="waiting")
            .order_by("pk")
            .values_list("reference", flat=True)[size // 8]
        )
        clients = {who: Client(HTTP_HOST="localhost") for who in ("coord", "gp", "anon")}
        clients["coord"].force_login(User.objects.get(email="coordination@banc.example.org"))
        clients["gp"].force_login(User.objects.get(email="dr.banc@exemple.fr"))
        token = invitation_token(SurveyInvitation.objects.first())
        pages = [p for p in bench_queue.pages("cpts-banc", reference, token) if p[0] in PAGES]
        for index, (label, who, url) in enumerate(pages):
            if url.startswith("search:"):  # posted once (kept in the session), then the page
                queue = reverse("intake_staff:queue", kwargs={"cpts_slug": "cpts-banc"})
                assert clients[who].post(queue, {"q": url[7:]}).status_code == 302
                pages[index] = (label, who, f"{queue}?recherche=1")
        setup[which] = (clients, pages, size)
    times: dict[tuple[str, str], list[float]] = {}
    for round_ in range(args.rounds + 1):  # the first round warms up
        for which in databases:
            use(which)
            clients, pages, _ = setup[which]
            for label, who, url in pages:
                t0 = time.perf_counter()
                response = clients[who].get(url)
                seconds = time.perf_counter() - t0
                assert response.status_code == 200, (label, which, response.status_code)
                if label.startswith("foyers"):  # a list measured empty measures nothing
                    assert b"data-household=" in response.content, (label, which)
                if round_:
                    times.setdefault((label, which), []).append(seconds)
    small, large = setup["small"][2], setup["large"][2]
    print(f"{ROOT}: medians of {args.rounds} rounds, {small:,} and {large:,} requests alternated")
    for label in PAGES:
        a = statistics.median(times[(label, "small")])
        b = statistics.median(times[(label, "large")])
        print(f"{label:<26} {a * 1000:7.1f} ms → {b * 1000:7.1f} ms  ×{b / a:5.2f}")


if __name__ == "__main__":
    main()
