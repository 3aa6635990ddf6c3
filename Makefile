# mCONNECT Hub. `make run` installs what it needs and starts the app;
# `make test` runs the whole test suite (as CI does); `make dist` builds the
# installers into dist/ (scripts/dist.sh; VERSION=X.Y.Z, default FyneApp.toml's;
# SIGN_CERT=... SIGN_KEY=... sign the Windows setup).
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/mesi/mconnect/app/hub.Version=$(VERSION)
# no_emoji: Fyne leaves out its colour emoji font (4 MB), which no text of
# the GUI uses and which it parses once per text style (about 20 MB of the
# Dashboard's memory; docs/BENCHMARKS.md, Dashboard).
TAGS := no_emoji

.PHONY: deps build run serve test fuzz dist dist-windows dist-linux dist-check clean

deps:
	scripts/deps.sh

build: deps
	$(GO) build -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o mconnect .

run: build
	./mconnect --dashboard

test: deps
	scripts/test.sh

fuzz:
	scripts/fuzz.sh 60s

dist: deps
	scripts/dist.sh

dist-windows: deps
	scripts/dist.sh windows

dist-linux: deps
	scripts/dist.sh linux

# The installers' CI step alone (scripts/test.sh runs it at its end).
dist-check: deps
	scripts/dist-check.sh

clean:
	rm -f mconnect rsrc_windows_amd64.syso
	rm -rf dist
