#!/usr/bin/env bash
# Exits 0 when bin/olc can be built with OpenBLAS: a C compiler and the
# library's development files, installing libopenblas-dev with apt-get when
# it is missing and the machine has apt-get (as root). Exits 1 otherwise,
# saying why on stderr. Used by `make build`.
set -u
have() {
  command -v "${CC:-gcc}" >/dev/null 2>&1 || return 1
  # The linkable library (libopenblas-dev's libopenblas.so), not just
  # the runtime's libopenblas.so.0.
  ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so ' || ls /usr/lib/*/libopenblas.so >/dev/null 2>&1
}
have && exit 0
if ! command -v "${CC:-gcc}" >/dev/null 2>&1; then
  echo "openblas: no C compiler (${CC:-gcc})" >&2
  exit 1
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq libopenblas-dev >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq libopenblas-dev >/dev/null 2>&1; }
  have && exit 0
fi
echo "openblas: libopenblas-dev is not installed and could not be" >&2
exit 1
