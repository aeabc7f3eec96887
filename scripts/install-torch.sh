#!/usr/bin/env bash
# Install the PyTorch build that fits this machine into the book's virtual environment.
#   scripts/install-torch.sh VENV_PYTHON VERSION      (the Makefile calls it before the lock)
#
# * Linux without an NVIDIA GPU: the CPU build, from PyTorch's CPU wheel index
#   (https://download.pytorch.org/whl/cpu): about 200 MB, instead of the default
#   PyPI build, which brings several GB of CUDA libraries that a CPU cannot use.
#   The index is probed for a few seconds first; if it cannot be reached, torch comes
#   from the default index (pip's configuration, else PyPI), which on Linux is the
#   CUDA build unless that configuration provides a CPU wheel. The script says so.
# * Linux with an NVIDIA GPU (nvidia-smi works): the default build from PyPI (CUDA).
# * macOS: the default build from PyPI, which is the CPU build with Apple's MPS.
#
# TORCH_INDEX=cpu|default|URL overrides the choice (URL: any PEP 503 index holding torch);
# TORCH_CPU_INDEX=URL names another CPU wheel index (a mirror) for the automatic choice.
# Only torch itself is installed here (--no-deps): its dependencies come from
# requirements.lock, at the versions pinned there.
set -euo pipefail

py="$1"
version="$2"
cpu_index="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
choice="${TORCH_INDEX:-auto}"

installed="$("$py" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)"
if [ "${installed%%+*}" = "$version" ]; then
  echo "torch $installed is already installed"
  exit 0
fi

reachable() { # a PEP 503 index answers for torch within a few seconds
  "$py" - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
url = sys.argv[1].rstrip("/") + "/torch/"
with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=5) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

index=""
if [ "$choice" = auto ]; then
  if [ "$(uname -s)" != Linux ]; then
    choice=default
    why="$(uname -s): PyPI's build is the CPU build (with Apple's MPS on macOS)"
  elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    choice=default
    why="an NVIDIA GPU is present: the default build from PyPI uses it (CUDA)"
  elif reachable "$cpu_index"; then
    choice=cpu
    why="no NVIDIA GPU: the CPU build from $cpu_index"
  else
    choice=default
    why="no NVIDIA GPU, but PyTorch's CPU index ($cpu_index) cannot be reached from here"
  fi
else
  why="TORCH_INDEX=$choice"
fi
case "$choice" in
  default) ;;
  cpu) index="$cpu_index" ;;
  *) index="$choice" ;;
esac

echo "Installing torch==$version: $why"
if [ -n "$index" ]; then
  "$py" -m pip install --quiet --no-deps "torch==$version" --index-url "$index"
else
  "$py" -m pip install --quiet --no-deps "torch==$version"
fi

# Say which build arrived. A CUDA build on a machine without an NVIDIA GPU works (on
# the CPU) but costs gigabytes of NVIDIA libraries, which the lock step then installs.
build="$("$py" -c 'import importlib.metadata as m; print(m.version("torch"))')"
echo "torch $build installed"
if [ "$(uname -s)" = Linux ] && [[ "$build" != *+cpu ]] && ! { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }; then
  echo "note: this is PyTorch's CUDA build (its NVIDIA libraries, several GB, come next)." \
    "It runs on the CPU, but where https://download.pytorch.org is reachable the CPU build" \
    "is much smaller: rm -rf .venv && make setup (or TORCH_INDEX=URL of a CPU wheel index)."
fi
