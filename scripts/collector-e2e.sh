#!/usr/bin/env bash
# End to end through a real OpenTelemetry collector (tests/collector.rs): an application using
# opentelemetry-otlp with HoneyHiveSpanProcessor -> rotel on loopback -> the local server's OTLP
# route, which answers the first requests 503.
#
# rotel's binary ships in the PyPI package `rotel` (pre-releases only). This script installs the
# pinned version into a virtual environment under the cargo target directory when it is not there
# yet, points ROTEL_BIN at the binary inside the package, and runs the test (ignored by a plain
# `cargo test`, which has no rotel). Needs python3 with venv, and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

ROTEL_VERSION="0.0.1a15"
target="${CARGO_TARGET_DIR:-target}"
venv="$target/rotel-venv"
python="$venv/bin/python"

installed() {
  [ -x "$python" ] &&
    [ "$("$python" -c 'import importlib.metadata as m; print(m.version("rotel"))' 2>/dev/null)" = "$ROTEL_VERSION" ]
}

if ! installed; then
  echo "installing rotel $ROTEL_VERSION into $venv"
  python3 -m venv "$venv"
  "$python" -m pip install --quiet --disable-pip-version-check --pre "rotel==$ROTEL_VERSION"
fi

# The agent binary is a file of the package: rotel/rotel-agent.
ROTEL_BIN="$("$python" -c 'import importlib.util, pathlib; spec = importlib.util.find_spec("rotel"); print(pathlib.Path(spec.origin).parent / "rotel-agent")')"
if [ ! -x "$ROTEL_BIN" ]; then
  echo "rotel $ROTEL_VERSION has no executable agent at $ROTEL_BIN" >&2
  exit 1
fi
export ROTEL_BIN
echo "ROTEL_BIN=$ROTEL_BIN ($("$ROTEL_BIN" --version))"

cargo test --all-features --test collector -- --include-ignored --nocapture
