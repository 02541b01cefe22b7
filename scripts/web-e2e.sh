#!/usr/bin/env bash
# The web view in a real browser (tests/web/browser.rs) and its page's pure functions
# (tests/web/model.test.mjs, Node's own test runner).
#
# Installs Debian's chromium and chromium-driver (and nodejs) when they are missing, builds the
# quickstart whose sessions the page shows, and runs the browser test (ignored by a plain
# `cargo test`, which has no browser). Screenshots land in $CARGO_TARGET_DIR/web-screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} from Debian's packages"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "$(/usr/bin/chromium --version), $(/usr/bin/chromedriver --version | cut -d' ' -f1-2), node $(node --version)"

node --test tests/web/

target="${CARGO_TARGET_DIR:-target}"
cargo build --example quickstart --features emulator
export QUICKSTART_BIN="$target/debug/examples/quickstart"
export CHROMIUM=/usr/bin/chromium CHROMEDRIVER=/usr/bin/chromedriver
export WEB_SCREENSHOTS="$target/web-screenshots"
cargo test --all-features --test web -- --include-ignored --nocapture
