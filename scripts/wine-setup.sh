#!/usr/bin/env bash
# Prepares Wine so that Go Windows binaries (GOOS=windows) run on this Linux
# machine, and prints the path of an -exec wrapper for `go test`:
#
#   GOOS=windows go test -exec "$(scripts/wine-setup.sh)" ./...
#
# Usage: scripts/wine-setup.sh [DIR]   (default $XIPC_WINE_DIR or ~/.xipc-wine)
#
# Installs wine64 and the MinGW-w64 C compiler with apt-get when missing (as
# root, or through sudo), creates a Wine prefix in DIR/prefix, and adds the
# bcryptprimitives.dll!ProcessPrng that Go >= 1.22 needs and Wine 8 lacks.
# Idempotent: a second run only rewrites the wrapper. Everything but the
# wrapper's path goes to stderr.
set -euo pipefail

dir=${1:-${XIPC_WINE_DIR:-${HOME:-/root}/.xipc-wine}}
wine=/usr/lib/wine/wine64
log() { printf 'wine-setup: %s\n' "$*" >&2; }

if [ ! -x "$wine" ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  sudo=
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { log "need root (or sudo) to install wine64 and gcc-mingw-w64-x86-64"; exit 1; }
    sudo=sudo
  fi
  log "installing wine64 and gcc-mingw-w64-x86-64 with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends wine64 gcc-mingw-w64-x86-64 >&2
fi
[ -x "$wine" ] || { log "$wine missing after installing wine64"; exit 1; }

mkdir -p "$dir"
export WINEPREFIX="$dir/prefix" WINEDEBUG=-all
dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
# system32.ok: the marker of the shared tool this script grew from, which
# prepares the same default directory.
if { [ ! -f "$WINEPREFIX/xipc-setup.ok" ] && [ ! -f "$WINEPREFIX/system32.ok" ]; } || [ ! -f "$dll" ]; then
  log "creating the Wine prefix $WINEPREFIX"
  # wineboot's exit status is unreliable without a display; the checks
  # below tell whether the prefix is usable.
  "$wine" wineboot -i >/dev/null 2>&1 || true
  [ -d "$WINEPREFIX/drive_c/windows/system32" ] || { log "wineboot did not create $WINEPREFIX"; exit 1; }
  # Go >= 1.22 needs bcryptprimitives.dll!ProcessPrng, absent in Wine 8: a
  # shim over RtlGenRandom (advapi32's SystemFunction036).
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cat >"$work/prng.c" <<'C'
#include <windows.h>
#define RtlGenRandom SystemFunction036
BOOLEAN WINAPI RtlGenRandom(PVOID, ULONG);
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, n)) return FALSE;
        data += n; len -= n;
    }
    return TRUE;
}
C
  printf 'LIBRARY bcryptprimitives\nEXPORTS\n    ProcessPrng\n' >"$work/prng.def"
  x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bcryptprimitives.dll" "$work/prng.c" "$work/prng.def" -ladvapi32
  cp "$work/bcryptprimitives.dll" "$dll"
  touch "$WINEPREFIX/xipc-setup.ok"
fi

cat >"$dir/wine-exec.tmp" <<W
#!/usr/bin/env bash
# go test -exec wrapper: runs a Windows executable under Wine (scripts/wine-setup.sh).
#
# The program's output goes to a file, printed when it ends: Wine's resident
# programs (wineserver, services.exe, explorer.exe) that it happens to start
# inherit its output and live on, and go test, which waits for the end of a
# test binary's output pipe, would fail the package ("Test I/O incomplete").
export WINEPREFIX="$WINEPREFIX" WINEDEBUG=-all
out=\$(mktemp "\${TMPDIR:-/tmp}/xipc-wine-out.XXXXXX") || exit 1
$wine "\$@" >"\$out" 2>&1 &
pid=\$!
trap 'kill -TERM \$pid 2>/dev/null' TERM INT QUIT HUP
while :; do
  wait \$pid
  rc=\$?
  kill -0 \$pid 2>/dev/null || break # else a trapped signal ended the wait
done
cat "\$out"
rm -f "\$out"
exit \$rc
W
chmod +x "$dir/wine-exec.tmp"
mv "$dir/wine-exec.tmp" "$dir/wine-exec"
echo "$dir/wine-exec"
