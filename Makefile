VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PEERS_STAMP := $(VENV)/.installed-peers

## screenshots: regenerate docs/images/ui-*.png from a real browser (see docs/ui.md)
.PHONY: test demo screenshots lint typecheck pytest bench bench-quick soak fixtures clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	scripts/install-chromium.sh
	$(VENV)/bin/ruff check replay history sandbox tests benchmarks examples fixtures
	$(VENV)/bin/mypy --strict replay examples tests benchmarks
	$(VENV)/bin/pytest -q -p no:cacheprovider

demo: $(STAMP)
	$(PY) examples/demo.py

# The peers (temporalio, dbos, llama-index-workflows) are optional: if they cannot be
# installed, the benchmarks still run and print why each peer was skipped.
$(PEERS_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[test,peers]' && touch $(PEERS_STAMP) \
		|| echo "could not install the [peers] extra: peer comparisons will be skipped"

bench: $(PEERS_STAMP)
	$(PY) -m benchmarks

bench-quick: $(PEERS_STAMP)
	$(PY) -m benchmarks --quick

# Property tests with many examples, then the chaos test with ten times its faults
# (REPLAY_CHAOS_FAULTS=N sets how many, REPLAY_CHAOS_SEED picks another schedule).
soak: $(STAMP)
	HYPOTHESIS_PROFILE=soak $(VENV)/bin/pytest -q -p no:cacheprovider tests/properties
	REPLAY_CHAOS_FAULTS=$${REPLAY_CHAOS_FAULTS:-2000} $(VENV)/bin/pytest -q -p no:cacheprovider \
		-s tests/replay/test_chaos.py

fixtures: $(STAMP)
	$(PY) -m fixtures.generate

clean:
	rm -rf $(VENV) replay.db replay-copy.db *.db-wal *.db-shm

screenshots: $(STAMP)
	scripts/install-chromium.sh
	REPLAY_UI_SCREENSHOTS=docs/images $(VENV)/bin/pytest -q -p no:cacheprovider tests/ui/test_browser.py
