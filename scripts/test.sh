#!/usr/bin/env bash
# Runs every test of xipc, on a Debian machine with Go:
#
#   1. gofmt, and go vet for linux and for windows; go build and go vet for
#      macOS and FreeBSD (GOOS=darwin, GOOS=freebsd: they must build)
#   2. the Linux tests, with the race detector, then those of the separate
#      nats/ module (the NATS backend, which has its own go.mod)
#   2b. every fuzz target (func FuzzX in a *_test.go file), one at a time,
#      for $XIPC_FUZZTIME each (default 6s, so that the dozen targets take
#      about two minutes)
#   3. the Windows tests under Wine (scripts/wine-setup.sh installs Wine and
#      the MinGW-w64 compiler with apt-get when they are missing), with the C
#      interop programs (*/testdata/*.c) built beforehand into
#      $XIPC_INTEROP_BIN and the example programs into $XIPC_EXAMPLES_BIN
#
# Every step runs even when an earlier one failed; the exit status is 0 only
# if all passed. Usage: scripts/test.sh (also `make test`, and CI's .ci/run).
set -uo pipefail

cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:${GOPATH:-${HOME:-/root}/go}/bin:$PATH"
command -v go >/dev/null || { echo "test.sh: go not found (looked in PATH and /usr/local/go/bin)" >&2; exit 1; }

failed=()
fail() { failed+=("$1"); echo "FAILED: $1"; }
n=0
section() { n=$((n + 1)); printf '\n==== [%d/11] %s ====\n' "$n" "$*"; }

# apt_install PKG...: installs Debian packages (as root, or through sudo),
# running apt-get update once.
apt_updated=
apt_install() {
  local sudo=
  [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_updated" ]; then
    $sudo apt-get update -qq && apt_updated=1
  fi
  $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

wine_exec=
interop_dir=
examples_dir=
keeper_pid=
cleanup() {
  stop_keeper
  # Wine's server stays a few seconds after its last program: wait for it to
  # go, so that the script leaves nothing running. Not -k: another user of
  # the same prefix may still be running programs.
  if [ -n "$wine_exec" ]; then
    WINEPREFIX="$(dirname "$wine_exec")/prefix" timeout 15 /usr/lib/wine/wineserver -w 2>/dev/null
  fi
  [ -z "$interop_dir" ] || rm -rf "$interop_dir"
  [ -z "$examples_dir" ] || rm -rf "$examples_dir"
}

# start_keeper runs, under Wine, a program that holds a message-only window
# until stop_keeper. Wine starts its desktop process (explorer.exe) when a
# program first uses a window, and Wine 8 sometimes deadlocks when programs
# start while that process is starting (seen in the msgq and CLI tests,
# whose programs make windows at once); and its server exits between test
# binaries, so that all this happens again for every package. The keeper
# starts the desktop once, before any test, and keeps the server up.
start_keeper() {
  local exe="$examples_dir/xipc-keeper.exe"
  GOOS=windows go build -o "$exe" ./cmd/xipc || return 1
  "$wine_exec" "$exe" msg listen "xipc-test-keeper-$$" >/dev/null 2>&1 &
  keeper_pid=$!
  for _ in $(seq 240); do
    if pgrep -f 'explorer.exe /desktop' >/dev/null; then
      echo "Wine's desktop process is up (keeper pid $keeper_pid)"
      return 0
    fi
    sleep 0.5
  done
  echo "Wine's desktop process did not start within 2 minutes"
  return 1
}

stop_keeper() {
  [ -n "$keeper_pid" ] || return 0
  kill "$keeper_pid" 2>/dev/null
  wait "$keeper_pid" 2>/dev/null
  keeper_pid=
}
trap cleanup EXIT

started=$SECONDS
echo "xipc tests: $(go version), $(uname -srm)"

section "gofmt"
unformatted=$(gofmt -l . 2>&1)
if [ -n "$unformatted" ]; then
  echo "$unformatted"
  fail "gofmt (run gofmt -w on the files above)"
else
  echo "all files formatted"
fi

section "go vet (linux)"
GOOS=linux go vet ./... && echo "ok" || fail "go vet (linux)"

section "go vet (windows)"
GOOS=windows go vet ./... && echo "ok" || fail "go vet (windows)"

section "go build and go vet (darwin, freebsd)"
for goos in darwin freebsd; do
  GOOS=$goos go build ./... && GOOS=$goos go vet ./... && echo "$goos: ok" || fail "go build/vet ($goos)"
done

section "Linux tests (go test -race)"
# The race detector needs cgo and so a C compiler.
if ! command -v gcc >/dev/null; then
  echo "installing gcc for the race detector"
  apt_install gcc libc6-dev || fail "apt-get install gcc"
fi
# The gateway's tests build hosts out of network namespaces with ip(8).
if [ "$(id -u)" = 0 ] && ! command -v ip >/dev/null; then
  echo "installing iproute2 for the gateway's network-namespace tests"
  apt_install iproute2 || echo "no iproute2: the network-namespace tests will skip"
fi
linux_start=$SECONDS
go test -race -count=1 -timeout 15m ./... || fail "Linux tests"
echo "Linux tests took $((SECONDS - linux_start))s"

section "nats module tests (cd nats && go test -race)"
# nats/ is a module of its own (the NATS server and client stay out of the
# root go.mod), so the root's ./... does not reach it.
nats_start=$SECONDS
(cd nats && go test -race -count=1 -timeout 10m ./...) || fail "nats module tests"
echo "nats module tests took $((SECONDS - nats_start))s"

section "Fuzzing (go test -fuzz, ${XIPC_FUZZTIME:-6s} per target)"
# Go fuzzes one target per go test run: find them all and run each alone.
fuzz_start=$SECONDS
while IFS=: read -r file target; do
  pkg="./$(dirname "$file")"
  echo "fuzz $pkg $target"
  go test -run='^$' -fuzz="^${target}\$" -fuzztime="${XIPC_FUZZTIME:-6s}" "$pkg" >/tmp/xipc-fuzz.$$ 2>&1 \
    || { cat /tmp/xipc-fuzz.$$; fail "fuzz $pkg $target"; }
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | grep -v -e '^./.git/' -e '^./nats/' \
  | sed 's/func //' | sort)
rm -f /tmp/xipc-fuzz.$$
echo "fuzzing took $((SECONDS - fuzz_start))s"

section "Wine setup"
if wine_exec=$(scripts/wine-setup.sh); then
  echo "wrapper: $wine_exec ($(/usr/lib/wine/wine64 --version 2>/dev/null || echo 'wine version unknown'))"
else
  wine_exec=
  fail "Wine setup"
fi

section "C interop programs (x86_64-w64-mingw32-gcc)"
interop_dir=$(mktemp -d "${TMPDIR:-/tmp}/xipc-interop.XXXXXX")
export XIPC_INTEROP_BIN=$interop_dir
found=0
while IFS= read -r src; do
  found=$((found + 1))
  exe="$interop_dir/$(basename "$src" .c).exe"
  if x86_64-w64-mingw32-gcc -O2 -o "$exe" "$src"; then
    echo "built $src -> $exe"
  else
    fail "building $src"
  fi
done < <(find . -path ./.git -prune -o -path '*/testdata/*.c' -print | sort)
echo "$found C program(s); XIPC_INTEROP_BIN=$XIPC_INTEROP_BIN"

section "Example programs for Windows (GOOS=windows go build ./examples/...)"
# examples_test.go runs each pair in two processes; under Wine it has no go
# command to build them with, so they are built here.
examples_dir=$(mktemp -d "${TMPDIR:-/tmp}/xipc-examples.XXXXXX")
export XIPC_EXAMPLES_BIN=$examples_dir
for pkg in $(go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./examples/...); do
  rel=${pkg#github.com/xipc/xipc/examples/}
  GOOS=windows go build -o "$examples_dir/$(echo "$rel" | tr / -).exe" "./examples/$rel" || fail "building examples/$rel"
done
echo "XIPC_EXAMPLES_BIN=$XIPC_EXAMPLES_BIN"

section "Windows tests under Wine (GOOS=windows go test)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed so far: ${failed[*]}"
fi
echo "total so far: $((SECONDS - started))s; now the Windows tests, whose results end this output"
if [ -n "$wine_exec" ]; then
  # One package at a time (-p 1), with the desktop started first (see
  # start_keeper): Wine 8 sometimes deadlocks when several programs start at
  # once while its desktop process is starting.
  start_keeper || echo "(going on without the keeper)"
  GOOS=windows go test -p 1 -count=1 -timeout 15m -exec "$wine_exec" ./... || failed+=("Windows tests")
  stop_keeper
else
  echo "skipped: no Wine"
fi

[ ${#failed[@]} -eq 0 ]
