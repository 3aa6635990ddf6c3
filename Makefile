# mCONNECT Hub. `make run` installs what it needs and starts the app;
# `make test` runs the whole test suite (as CI does).
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/mesi/mconnect/app/hub.Version=$(VERSION)

.PHONY: deps build run serve test fuzz clean

deps:
	scripts/deps.sh

build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o mconnect .

run: build
	./mconnect --dashboard

test: deps
	scripts/test.sh

fuzz:
	scripts/fuzz.sh 60s

clean:
	rm -f mconnect
