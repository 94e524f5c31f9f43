# The two commands of the README: `make run` and `make test`. Both create .venv and install
# the project with requirements.lock as constraints (CPU torch, no PySide6 6.12.0), then compile
# gradviz's bytecode: an editable install has none, and where PYTHONDONTWRITEBYTECODE is set every
# start would compile the sources again (a slower start of every engine worker).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.gradviz-installed

.PHONY: run test lint setup fonts bench clean translations

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	$(BIN)/python -m compileall -q gradviz
	touch $(STAMP)

setup: $(STAMP) fonts

# Chinese text (the zh_CN words, captions, a variable named 梯度) needs a CJK font, or Qt draws boxes.
# Where fontconfig knows none, Debian's Noto Sans CJK is installed when we may (root with apt-get, as on
# CI); otherwise one line says how. Never fails the set-up: everything but Chinese text works without it.
fonts:
	@if command -v fc-list >/dev/null 2>&1 && [ -z "$$(fc-list :lang=zh)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "No CJK font found: installing fonts-noto-cjk"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fonts-noto-cjk >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fonts-noto-cjk >/dev/null 2>&1; } || \
	    echo "Could not install fonts-noto-cjk: Chinese text will show as boxes until a CJK font is installed"; \
	  else \
	    echo "No CJK font found: Chinese text will show as boxes. Install one, e.g. sudo apt-get install fonts-noto-cjk"; \
	  fi; \
	fi

run: $(STAMP) fonts
	$(BIN)/gradviz

test: $(STAMP) fonts
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

# The code's form: ruff (pyproject's rule set), the layer contracts (import-linter; indirect
# imports count), types of gradviz/core (mypy).
lint: $(STAMP)
	$(BIN)/ruff check gradviz tests benchmarks
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

# The window's translations (Qt's own tools): pyside6-lupdate collects every translate()/tr() text
# of the UI into resources/i18n/gradviz_<lang>.ts (kept in git, translated there; no line numbers,
# so a moved line changes nothing), pyside6-lrelease compiles it to the .qm the app loads (also in
# git: the wheel ships resources/ as it is). tests/ui/test_translations.py fails when either is stale.
TS_LANGS := zh_CN
TS_SOURCES := gradviz/ui gradviz/launch.py
translations: $(STAMP)
	for lang in $(TS_LANGS); do \
		$(BIN)/pyside6-lupdate -silent -extensions py -locations none -no-obsolete $(TS_SOURCES) \
			-ts resources/i18n/gradviz_$$lang.ts && \
		$(BIN)/pyside6-lrelease -silent resources/i18n/gradviz_$$lang.ts -qm resources/i18n/gradviz_$$lang.qm \
			|| exit 1; \
	done

# Benchmarks (issue 5): installs the benchmark-only anchors (torchviz; graphviz's `dot` via apt
# when missing) and prints the tables the README shows. Not part of the tests.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test,bench]"
	command -v dot >/dev/null || apt-get install -y --no-install-recommends graphviz
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench_render.py --rounds 7
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_layout.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench_canvas.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench_app.py
	$(BIN)/python benchmarks/bench_runner.py
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_made_by.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
