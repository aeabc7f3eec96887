#!/usr/bin/env bash
# Check (and, as root on Debian/Ubuntu, install) what the book needs from the system.
#   scripts/system-deps.sh book   -> Python 3.11, 3.12 or 3.13 with venv; Fashion-MNIST source
#   scripts/system-deps.sh test   -> the same, plus a Chromium for the browser test
# Without root, or without apt-get (macOS), it installs nothing from the system and
# says exactly what is missing and how to get it. Every check runs, then one summary.
set -uo pipefail # no -e: a failing check is recorded, never a silent exit

purpose="${1:-book}"
python="${PYTHON:-python3}"
os="$(uname -s)"
missing_pkgs=() # Debian packages that root could install
problems=()     # what stops the set-up, with what to do
notes=()        # what the set-up will do differently, for the reader to know
can_apt=false
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then can_apt=true; fi

# ------------------------------------------------------------------ Python
supported="3.11, 3.12 or 3.13"
if [ "$os" = Darwin ]; then
  get_python="install one (https://www.python.org/downloads/macos/, or: brew install python@3.12)"
else
  get_python="install one (Debian/Ubuntu: sudo apt-get install python3 python3-venv)"
fi
if ! path="$(command -v "$python" 2>/dev/null)"; then
  problems+=("no '$python' on PATH: $get_python, or name it with PYTHON=/path/to/python3")
elif ! version="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)"; then
  # The command exists but does not run: typically a pyenv shim for a version that is
  # not active (it exits 127 with pyenv's own text).
  why="$("$python" -c pass 2>&1 | head -n 1)"
  hint="name a Python that runs with PYTHON=/path/to/python3"
  case "$path" in
    */.pyenv/shims/*)
      hint="it is a pyenv shim for a version that is not active: run 'pyenv shell <version>'"
      hint+=" first, or pass the interpreter itself, e.g. PYTHON=\$(pyenv prefix <version>)/bin/$(basename "$path")" ;;
  esac
  problems+=("'$python' ($path) is on PATH but does not run (${why:-no message}); $hint")
else
  minor="${version%.*}"
  too_old=false
  case "$minor" in
    3.11 | 3.12 | 3.13) ;;
    3.[0-9] | 3.10 | [0-2].*)
      too_old=true
      problems+=("'$python' is Python $version; the book needs Python $supported: $get_python, then PYTHON=python3.12 (for example)") ;;
    *)
      notes+=("'$python' is Python $version, newer than the versions the book is tested with ($supported); the set-up continues") ;;
  esac
  if ! $too_old && ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if [ "$os" = Linux ] && command -v apt-get >/dev/null 2>&1 && [[ "$path" == /usr/bin/* ]]; then
      missing_pkgs+=("python${minor}-venv")
    else
      problems+=("the Python at $path lacks the venv module (import venv, ensurepip fails): install a full Python $supported")
    fi
  fi
fi

# ----------------------------------------------------------- Fashion-MNIST
# The book's cache, else Debian's package, else a verified download by `make data`.
if [ ! -f data/fashion-mnist/t10k-labels-idx1-ubyte ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then
  if $can_apt; then
    missing_pkgs+=(dataset-fashion-mnist)
  elif command -v apt-get >/dev/null 2>&1; then
    notes+=("Debian package dataset-fashion-mnist is not installed: the set-up downloads Fashion-MNIST instead (about 30 MB; or: sudo apt-get install dataset-fashion-mnist)")
  else
    notes+=("the set-up downloads Fashion-MNIST (about 30 MB) and checks it against its SHA-256")
  fi
fi

# ----------------------------------------------------------------- Chromium
# The same search as tests/test_book_html.py: $CHROMIUM, a Chromium or Chrome on PATH,
# the usual macOS applications, then Playwright's own download.
find_chromium() {
  if [ -n "${CHROMIUM:-}" ]; then
    [ -x "$CHROMIUM" ] && echo "$CHROMIUM"
    return
  fi
  local c
  for c in chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$c" 2>/dev/null && return
  done
  for c in "/Applications/Chromium.app/Contents/MacOS/Chromium" \
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"; do
    [ -x "$c" ] && echo "$c" && return
  done
  local cache="${PLAYWRIGHT_BROWSERS_PATH:-}"
  if [ -z "$cache" ]; then
    if [ "$os" = Darwin ]; then cache="$HOME/Library/Caches/ms-playwright"; else cache="$HOME/.cache/ms-playwright"; fi
  fi
  compgen -G "$cache/chromium-*" >/dev/null 2>&1 && echo "playwright:$cache"
}

if [ "$purpose" = test ] && [ -z "$(find_chromium)" ]; then
  if [ -n "${CHROMIUM:-}" ]; then
    problems+=("CHROMIUM=$CHROMIUM is not an executable file: point it at a Chromium or Chrome binary")
  elif $can_apt; then
    missing_pkgs+=(chromium)
  elif [ -x .venv/bin/playwright ]; then
    echo "No Chromium found: downloading Playwright's Chromium for the browser test (.venv/bin/playwright install chromium)"
    if ! .venv/bin/playwright install chromium; then
      problems+=("the browser test needs Chromium and Playwright could not download one: install Chromium (Debian/Ubuntu: sudo apt-get install chromium; macOS: brew install --cask chromium) or set CHROMIUM=/path/to/chrome")
    fi
  else
    notes+=("no Chromium found: after the Python packages, 'make test' downloads Playwright's Chromium (or set CHROMIUM=/path/to/chrome; Debian/Ubuntu: sudo apt-get install chromium)")
  fi
fi

# ---------------------------------------------------------------- install
if [ ${#missing_pkgs[@]} -gt 0 ]; then
  if $can_apt; then
    echo "Installing Debian packages: ${missing_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null; }; then
      problems+=("apt-get could not install: ${missing_pkgs[*]}")
    fi
  else
    for p in "${missing_pkgs[@]}"; do
      problems+=("missing Debian package '$p': run  sudo apt-get install $p")
    done
  fi
fi

for n in "${notes[@]+"${notes[@]}"}"; do echo "note: $n"; done
if [ ${#problems[@]} -gt 0 ]; then
  echo "The book cannot be set up on this machine yet:" >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 1
fi
exit 0
