#!/usr/bin/env bash
# The README's test command (and what .ci/run calls): install what the tests need, then run them.
#   - the project with its dev extras (pytest, hypothesis, playwright, mesa, ...);
#   - Debian's chromium for the browser tests, when /usr/bin/chromium is missing (apt waits up to 10 min
#     for another install's lock instead of failing);
#   - then `python -m pytest -n 2` with any extra arguments given here.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e '.[dev]'
if [[ ! -x /usr/bin/chromium ]]; then
  sudo=""
  if [[ "$(id -u)" != "0" ]]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: the browser tests need Debian's chromium (/usr/bin/chromium); install it as root:" >&2
      echo "  apt-get install -y chromium" >&2
      exit 2
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  lock=(-o DPkg::Lock::Timeout=600)
  $sudo apt-get "${lock[@]}" install -y -qq chromium >/dev/null 2>&1 \
    || { $sudo apt-get "${lock[@]}" update -qq && $sudo apt-get "${lock[@]}" install -y -qq chromium; }
fi
exec python -m pytest -n 2 "$@"
