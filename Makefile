# AccèsMT — every command a developer or CI needs. Only Python 3.11 and make are required.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# The demo: web server on PORT, local SMTP server on SMTP_PORT (1025 beside PORT=8000, else
# PORT + 1), links in e-mails on PUBLIC_BASE_URL; each can be set: `make demo PORT=8010`.
PORT ?= 8000
SMTP_PORT ?= $(if $(filter 8000,$(PORT)),1025,$(shell expr $(PORT) + 1))
PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
DEMO_DB := var/accesmt.sqlite3

.PHONY: venv demo demo-reset demo-load demo-serve run test test-postgres quality format lock bench bench-faults bench-load prod-check clean browsers fuzz

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 est requis ($(PYTHON) introuvable)."; exit 1; }
	@echo "→ Création de l'environnement Python ($(VENV))…"
	$(PYTHON) -m venv $(VENV)
	@echo "→ Installation des dépendances (requirements.lock) : une à trois minutes la première fois…"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $@

# Every step says what it does; the ports are checked before anything is installed.
demo:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 est requis ($(PYTHON) introuvable)."; exit 1; }
	@echo "→ Vérification des ports $(PORT) (site) et $(SMTP_PORT) (serveur SMTP de la démo)…"
	@$(PYTHON) scripts/check_ports.py $(PORT) $(SMTP_PORT)
	@$(MAKE) --no-print-directory venv
	@$(MAKE) --no-print-directory demo-load
	@$(MAKE) --no-print-directory demo-serve

# Start again from an empty demo database, without reinstalling anything.
demo-reset:
	@test -f $(VENV)/.installed || { echo "Pas d'environnement installé : lancez d'abord « make demo »."; exit 1; }
	@echo "→ Vérification des ports $(PORT) (site) et $(SMTP_PORT) (serveur SMTP de la démo)…"
	@$(PYTHON) scripts/check_ports.py $(PORT) $(SMTP_PORT)
	@echo "→ Suppression de la base de démonstration ($(DEMO_DB)) et des e-mails reçus (var/mails/)…"
	rm -f $(DEMO_DB) $(DEMO_DB)-journal $(DEMO_DB)-wal $(DEMO_DB)-shm
	rm -rf var/mails
	@$(MAKE) --no-print-directory demo-load
	@$(MAKE) --no-print-directory demo-serve

demo-load demo-serve: export PUBLIC_BASE_URL := $(PUBLIC_BASE_URL)
demo-load demo-serve: export EMAIL_PORT := $(SMTP_PORT)

demo-load:
	@mkdir -p var
	@echo "→ Création ou mise à jour de la base de données ($(DEMO_DB))…"
	@$(MANAGE) migrate --noinput
	@echo "→ Chargement des communes de France (≈ 30 s)…"
	@$(MANAGE) load_communes
	@echo "→ Chargement du territoire de démonstration (une à deux minutes), étape par étape :"
	@$(MANAGE) load_demo

demo-serve:
	@echo "→ Démarrage : site $(PUBLIC_BASE_URL), serveur SMTP local sur le port $(SMTP_PORT) (var/mails/*.eml), worker (e-mails, SMS journalisés, calendrier des tâches périodiques), worker des tâches (répartitions, envois, tâches périodiques). Ctrl-C arrête tout."
	@trap 'kill 0' EXIT INT TERM; \
	  $(MANAGE) smtp_sink --port $(SMTP_PORT) & \
	  $(MANAGE) run_worker & \
	  $(MANAGE) db_worker --no-reload --verbosity 0 & \
	  $(MANAGE) runserver 127.0.0.1:$(PORT)

test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

quality: venv
	mkdir -p var
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/djlint accesmt --lint
	$(MANAGE) check
	DJANGO_SETTINGS_MODULE=config.settings.prod SECRET_KEY=quality-check-$$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz ALLOWED_HOSTS=accesmt.example.org PUBLIC_BASE_URL=https://accesmt.example.org DATABASE_URL=sqlite:///var/quality.sqlite3 CACHE_URL=dbcache://accesmt_cache $(MANAGE) check --deploy --fail-level WARNING
	$(MANAGE) makemigrations --check --dry-run

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock:
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

# bench_load.py (make bench-load), bench_registration_faults.py (make bench-faults) and
# bench_queue_paired.py (two databases made first, see its docstring) are left
# out: they need PostgreSQL (the first two start their own servers).
bench: venv
	@for b in bench/bench_*.py; do case $$b in *_faults.py|*_load.py|*_paired.py) continue;; esac; echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Registrations under faults against gunicorn + a throw-away PostgreSQL on loopback (the SMTP
# server down and back, PostgreSQL restarted): `make bench-faults BENCH_ARGS="--count 300"`.
bench-faults: venv
	$(BIN)/python -u bench/bench_registration_faults.py $(BENCH_ARGS)

# The production stack on this machine (own PostgreSQL cluster, or DATABASE_URL=postgres://…):
# gunicorn (3 workers), 2 outbox workers, 2 task workers, the SMTP sink, then a smoke journey
# through HTTP (register, verify, ask GPs, answer, choose, an allocation run, /healthz); exits 1 on
# a failed step, stops everything (also on Ctrl-C).
prod-check: venv
	$(BIN)/python -u bench/prod_check.py $(PROD_CHECK_ARGS)

# The web under load: builds (once, 2–20 min, kept) the database of 1,000,000 requests in 100 CPTS
# on the PostgreSQL server of BENCH_REGION_URL, then, through bench/stack.py on that database, its
# migrations, gunicorn (production settings), the worker and the SMTP sink, then locust.
BENCH_REGION_URL ?= postgres://postgres@127.0.0.1:5432/accesmt_bench_region
LOAD_USERS ?= 150
LOAD_DURATION ?= 60s
bench-load: venv
	$(BIN)/python bench/bench_load.py --url $(BENCH_REGION_URL) --users $(LOAD_USERS) --duration $(LOAD_DURATION)

clean:
	rm -rf $(VENV) var .pytest_cache

# Fuzzing (ADR 0028): tests/fuzz with FUZZ_EXAMPLES examples per operation and mode (20 in the
# normal suite); 800 makes more than 10,000 cases. Prints the cases run, server errors and
# partial writes found.
FUZZ_EXAMPLES ?= 800
fuzz: venv
	@mkdir -p var
	@echo "→ Fuzzing (FUZZ_EXAMPLES=$(FUZZ_EXAMPLES)) ; journaux de l'application dans var/fuzz.log"
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -p no:cacheprovider -q -s tests/fuzz $(PYTEST_ARGS) 2>var/fuzz.log
