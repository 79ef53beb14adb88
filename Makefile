# xipc: common tasks. `make test` runs every test (Linux, then Windows under Wine).

export PATH := /usr/local/go/bin:$(PATH)

GO    ?= go
BIN   ?= bin
BENCH ?= .

.PHONY: all build test demo bench

all: build

## build: the xipc command for Linux and Windows, into $(BIN)/
build:
	$(GO) build ./...
	$(GO) build -o $(BIN)/xipc ./cmd/xipc
	GOOS=windows GOARCH=amd64 $(GO) build -o $(BIN)/xipc.exe ./cmd/xipc

## test: every test: gofmt, vet, Linux tests with -race, Windows tests under Wine
test:
	./scripts/test.sh

## demo: the two-process demo of each mechanism
demo:
	$(GO) run ./cmd/xipc demo

## bench: the benchmarks (BENCH=regexp selects), each with its raw-OS baseline
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./...
