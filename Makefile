# console-access: build, test and demo entry points.
# `make demo` and `make test` install what they need (libcsv-dev, a project-local moto venv).

SWIFT        ?= swift
PYTHON       ?= python3
VENV         := .venv
MOTO         := $(VENV)/bin/moto_server
PREFIX       ?= /usr/local
SWIFT_FLAGS  ?=
# Release builds link the Swift runtime (and Foundation) statically: the binary `make install`
# ships, and the one `make demo` and `make bench` run. It starts faster and uses less CPU in a
# batch than a dynamically linked one (measured: BENCHMARKS.md, the batch section).
RELEASE      := -c release --static-swift-stdlib

.PHONY: all setup setup-libcsv setup-moto setup-tinyproxy setup-time build release test lint format clean demo bench bench-validate bench-batch bench-review bench-accounts install fuzz

all: build

## setup: install libcsv-dev and tinyproxy (apt) and moto[server] (project-local .venv) when missing
setup: setup-libcsv setup-moto setup-tinyproxy

setup-libcsv:
	@if [ ! -f /usr/include/csv.h ]; then \
		echo "setup: installing libcsv-dev"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libcsv-dev >/dev/null; \
	fi

setup-moto: $(MOTO)

## setup-tinyproxy: the real HTTP proxy the proxy tests start (never as a service: the tests run it)
setup-tinyproxy:
	@if ! command -v tinyproxy >/dev/null 2>&1 && [ ! -x /usr/bin/tinyproxy ] && [ ! -x /usr/sbin/tinyproxy ]; then \
		echo "setup: installing tinyproxy"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends tinyproxy >/dev/null; \
		$$SUDO sh -c 'command -v systemctl >/dev/null && systemctl disable --now tinyproxy >/dev/null 2>&1; command -v service >/dev/null && service tinyproxy stop >/dev/null 2>&1; true'; \
	fi

## setup-time: install GNU time (/usr/bin/time, for peak RSS in benchmarks) when missing
setup-time:
	@if [ ! -x /usr/bin/time ]; then \
		echo "setup: installing GNU time"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq time >/dev/null; \
	fi

$(MOTO):
	@echo "setup: creating $(VENV) with moto[server]"
	@$(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --disable-pip-version-check 'moto[server]'
	@test -x $(MOTO)

build: setup-libcsv
	$(SWIFT) build $(SWIFT_FLAGS)

release: setup-libcsv
	$(SWIFT) build $(RELEASE) $(SWIFT_FLAGS)

## test: every test, with a moto server on a free loopback port (stopped afterwards)
test: setup
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	# One test at a time: the tests' loopback servers and 1-2 s metadata timeouts are not timed
	# assertions, but on 2 cores hundreds of parallel tests starve them into false timeouts.
	scripts/with-moto.sh $(SWIFT) test --skip-build --no-parallel $(SWIFT_FLAGS)

## demo: the main job on a local moto server with the sample files (never touches real AWS)
demo: setup
	$(SWIFT) build $(RELEASE) $(SWIFT_FLAGS)
	scripts/demo.sh

## install: the release binary (static Swift runtime), stripped, and shell completions under $(PREFIX)
install: setup-libcsv
	$(SWIFT) build $(RELEASE) $(SWIFT_FLAGS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -s -m 0755 .build/release/console-access $(DESTDIR)$(PREFIX)/bin/console-access
	.build/release/console-access --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/console-access
	.build/release/console-access --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_console-access
	.build/release/console-access --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/console-access.fish
	@echo "installed $(DESTDIR)$(PREFIX)/bin/console-access and completions for bash, zsh and fish"

## fuzz: each libFuzzer target (XML reader, HTTP response path, shared config parser, CSV reader)
## for FUZZ_SECONDS seconds (default 60) with AddressSanitizer; see docs/fuzzing.md
FUZZ_SECONDS ?= 60
fuzz: setup-libcsv
	SWIFT=$(SWIFT) FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests

## bench: every benchmark; add new bench-* targets as prerequisites here
bench: bench-validate bench-batch bench-review bench-accounts

## bench-validate: `console-access validate` vs Python's csv module on 100k and 1M generated rows
bench-validate: setup-libcsv setup-time
	SWIFT=$(SWIFT) PYTHON=$(PYTHON) SWIFT_FLAGS="$(SWIFT_FLAGS)" bench/validate.sh

## bench-batch: `console-access batch` vs a boto3 script through a latency / throttling proxy in front of moto
bench-batch: setup setup-time
	SWIFT=$(SWIFT) SWIFT_FLAGS="$(SWIFT_FLAGS)" bench/batch.sh

clean:
	rm -rf .build .build-fuzz .demo

## bench-review: `console-access review` from the credential report vs the per-user path and a boto3 per-user script, 5,000 users behind a 50 ms proxy
bench-review: setup setup-time
	SWIFT=$(SWIFT) SWIFT_FLAGS="$(SWIFT_FLAGS)" bench/review.sh

## bench-accounts: `batch --accounts` over 10 accounts x 100 rows vs one account's 100 rows, 20 IAM calls/s per account (issue 21)
bench-accounts: setup setup-time
	SWIFT=$(SWIFT) SWIFT_FLAGS="$(SWIFT_FLAGS)" bench/accounts.sh
