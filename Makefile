# AccèsMT — every command a developer or CI needs. Only Python 3.11 and make are required.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT ?= 8000

.PHONY: venv demo run test test-postgres quality format lock bench clean browsers

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 est requis ($(PYTHON) introuvable)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $@

demo: venv
	mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) load_communes
	$(MANAGE) load_demo
	@echo "E-mails : reçus par le serveur SMTP local (var/mails/*.eml) ; SMS : journal du worker."
	@trap 'kill 0' EXIT INT TERM; \
	  $(MANAGE) smtp_sink --port 1025 & \
	  $(MANAGE) run_worker & \
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

bench: venv
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
