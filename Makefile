# olc — see `make help`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/olc-toolkit/olc/cmd/olc/internal/root.version=$(VERSION)
# The race detector needs cgo; set RACE= to test without it.
RACE    ?= -race

.PHONY: help build build-go build-openblas test bench lint demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build bin/olc: with OpenBLAS (cgo) when the library is there or installable, else static pure Go
	@if ./scripts/openblas.sh; then \
		echo "building bin/olc with OpenBLAS (make build-go: static, pure Go)"; \
		CGO_ENABLED=1 $(GO) build -tags openblas -trimpath -ldflags '$(LDFLAGS)' -o bin/olc ./cmd/olc; \
	else \
		echo "building bin/olc in pure Go"; \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/olc ./cmd/olc; \
	fi

build-go: ## build bin/olc static, pure Go (what releases ship)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/olc ./cmd/olc

build-openblas: ## build bin/olc with OpenBLAS through cgo, or fail (installs libopenblas-dev if it can)
	@./scripts/openblas.sh
	CGO_ENABLED=1 $(GO) build -tags openblas -trimpath -ldflags '$(LDFLAGS)' -o bin/olc ./cmd/olc

test: ## go vet and every test, with the race detector; the PostgreSQL tests on a throwaway server when PostgreSQL is installed
	$(GO) vet ./...
	@if [ -z "$$OLC_TEST_POSTGRES" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo ./scripts/test-postgres.sh run $(GO) test $(RACE) -count=1 ./...; \
		./scripts/test-postgres.sh run $(GO) test $(RACE) -count=1 ./...; \
	else \
		echo $(GO) test $(RACE) -count=1 ./...; \
		$(GO) test $(RACE) -count=1 ./...; \
	fi

bench: ## run the benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint: ## go vet and staticcheck
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

demo: build ## a showcase on the embedded defaults (about 4 minutes on 2 cores)
	@command -v curl >/dev/null || (command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq curl >/dev/null) || true
	./scripts/demo.sh

clean: ## remove build outputs and the demo's store
	rm -rf bin .olc/demo
