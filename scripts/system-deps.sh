#!/usr/bin/env bash
# Check (and, as root on Debian, install) what the book needs from the system.
#   scripts/system-deps.sh book   -> Python 3.11+ with venv; Fashion-MNIST source
#   scripts/system-deps.sh test   -> the same, plus Chromium for the browser test
# Without root it installs nothing and says exactly what is missing.
set -euo pipefail
purpose="${1:-book}"
python="${PYTHON:-python3}"
missing_pkgs=()
problems=()

if ! command -v "$python" >/dev/null 2>&1; then
  problems+=("no '$python' on PATH: install Python 3.11 (Debian: python3 python3-venv)")
elif ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  problems+=("'$python' is $("$python" -V 2>&1); the pinned packages need Python 3.11 (set PYTHON=python3.11)")
elif ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  missing_pkgs+=(python3-venv)
fi

# Fashion-MNIST: the book's cache, else Debian's package, else a download.
if [ ! -f data/fashion-mnist/t10k-labels-idx1-ubyte ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then
  missing_pkgs+=(dataset-fashion-mnist)
fi

if [ "$purpose" = test ] && [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  missing_pkgs+=(chromium)
fi

if [ ${#missing_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages: ${missing_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null
  else
    for p in "${missing_pkgs[@]}"; do
      case "$p" in
        dataset-fashion-mnist)
          echo "note: Debian package dataset-fashion-mnist is not installed; the set-up will try to" \
               "download Fashion-MNIST instead (or run: sudo apt-get install dataset-fashion-mnist)" ;;
        *) problems+=("missing Debian package '$p': run  sudo apt-get install $p") ;;
      esac
    done
  fi
fi

if [ ${#problems[@]} -gt 0 ]; then
  echo "The book cannot be set up on this machine yet:" >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 1
fi
