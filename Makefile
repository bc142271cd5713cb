# Two commands do all the set-up: `make demo` and `make test`.
# Both create .venv when missing, (re)install the project only when pyproject.toml changed,
# and are fast when nothing changed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The development setup reads the real datasets from ../shared/data.
export EO_RAY_DATA ?= $(abspath ../shared/data)
# The CPU build of torch that pip finds on machines without a GPU.
TORCH_CPU ?= torch==2.13.0

.PHONY: install demo test lint clean

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel setuptools

$(STAMP): pyproject.toml | $(PY)
	@# Install torch first so that the project's `torch>=...` bound is already met and
	@# pip never reaches for multi-GB CUDA builds on a machine without a GPU.
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_CPU)"
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: install
	$(PY) jobs/demo.py

test: install
	@# The feature store's online-store tests start a real redis-server on loopback.
	@command -v redis-server >/dev/null || (apt-get install -y -qq redis-server >/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null))
	@# The web UI's browser tests drive Debian's headless Chromium with its chromedriver.
	@(test -x /usr/bin/chromium && test -x /usr/bin/chromedriver) \
		|| (apt-get install -y -qq chromium chromium-driver >/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null))
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check eo_ray tests benchmarks jobs

clean:
	rm -rf $(VENV) .eo_ray .pytest_cache build *.egg-info
