#!/usr/bin/env bash
# The README's test command (and what .ci/run calls): install what the tests need, then run them.
#   - the project with its dev extras (pytest, hypothesis, playwright, mesa, ...);
#   - Debian's chromium for the browser tests, when /usr/bin/chromium is missing, and gcc, which builds the
#     engine's native module (engine/native.py; the tests check it), when no C compiler is there (apt waits
#     up to 10 min for another install's lock instead of failing);
#   - then `python -m pytest -n 2` with any extra arguments given here.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e '.[dev]'
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
if (( ${#missing[@]} )); then
  sudo=""
  if [[ "$(id -u)" != "0" ]]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: the tests need ${missing[*]} (Debian packages); install them as root:" >&2
      echo "  apt-get install -y ${missing[*]}" >&2
      exit 2
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  lock=(-o DPkg::Lock::Timeout=600)
  $sudo apt-get "${lock[@]}" install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { $sudo apt-get "${lock[@]}" update -qq && $sudo apt-get "${lock[@]}" install -y -qq "${missing[@]}"; }
fi
exec python -m pytest -n 2 "$@"
