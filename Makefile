# fleetline build, test and benchmark entry points.
GO        ?= go
PKGS      ?= ./...
TESTFLAGS ?= -race -timeout 20m
BENCHTIME ?= 1x

.PHONY: test lint fmt-check vet staticcheck unit cross bench demo build fuzz

## test: everything CI checks: formatting, vet, staticcheck, race tests, cross builds
test: lint unit cross

lint: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) tool staticcheck $(PKGS)

unit:
	$(GO) test $(TESTFLAGS) $(PKGS)

## cross: static CGO-free binaries for the platforms line PCs run
cross:
	CGO_ENABLED=0 GOOS=linux   GOARCH=amd64 $(GO) build -o /dev/null ./cmd/...
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/...
	CGO_ENABLED=0 GOOS=darwin  GOARCH=arm64 $(GO) build -o /dev/null ./cmd/...

build:
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/...

## bench: speed and memory targets (flash throughput, audit scale, station CPU)
bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem $(PKGS)

## fuzz: a short run of every fuzz target (FUZZTIME each)
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

demo:
	$(GO) run ./cmd/station demo
