# Mobile@Work for macOS — build, test and package.
VERSION ?= 1.80.0
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/mobileatwork/mobileatwork/internal/version.Version=$(VERSION) \
           -X github.com/mobileatwork/mobileatwork/internal/version.Commit=$(COMMIT)
GO      ?= go
export CGO_ENABLED = 0

.PHONY: build test vet demo darwin-agents cross bench bench-server bench-agent-rss soak pkg clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/mobileatwork ./cmd/mobileatwork-server

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...
	GOOS=darwin GOARCH=amd64 $(GO) vet ./...

test: vet
	$(GO) test -count=1 -timeout 9m ./...

demo: build darwin-agents
	BIN=bin AGENT_DIR=dist/darwin ./scripts/demo.sh

cross:
	GOOS=darwin GOARCH=arm64 $(GO) build ./...
	GOOS=darwin GOARCH=amd64 $(GO) build ./...
	GOOS=linux  GOARCH=amd64 $(GO) build ./...

bench:
	./scripts/bench.sh

# The server at fleet scale: 2,000 simulated agents at the maximum rate
# against a local server process (DEVICES, DURATION and MAWLOAD_STATE
# change the scenario; docs/scaling.md explains the figures).
bench-server:
	./scripts/bench-server.sh

# The agent daemon's resident memory (Linux VmRSS) around its check-ins on
# 5,000 receipts and 1,000 apps: reading everything at each check-in
# (before) against the daemon's incremental inventory (after), one run
# each, about three minutes; AGENTRSS_FLAGS adds flags (docs/scaling.md).
bench-agent-rss:
	$(GO) build -trimpath -o bin/ ./cmd/mobileatwork-server ./inventory/invtest/agentrss
	bin/agentrss --server-bin bin/mobileatwork-server $(AGENTRSS_FLAGS)

# Fault injection at length: SIGKILL of agent and server at random moments
# and outages; prints double runs, lost and duplicated results (all 0).
soak:
	MAW_SOAK_ITERATIONS=$${SOAK_ITERATIONS:-500} $(GO) test -count=1 -timeout 60m -run '^TestSoak$$' -v ./e2e/ | grep -E 'soak:|^(--- |ok|FAIL)'


# The two thin darwin agents the package (and the server's download links)
# are built from.
darwin-agents:
	mkdir -p dist/darwin
	GOOS=darwin GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/darwin/mobileatwork-arm64 ./cmd/mobileatwork
	GOOS=darwin GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/darwin/mobileatwork-amd64 ./cmd/mobileatwork

pkg: darwin-agents
	$(GO) run ./cmd/mawpkg --version $(VERSION) --arm64 dist/darwin/mobileatwork-arm64 \
	  --amd64 dist/darwin/mobileatwork-amd64 --out dist/MobileAtWork-$(VERSION).pkg $(PKGSIGN)

clean:
	rm -rf bin dist
