#!/usr/bin/env bash
# Installs everything Ward needs to build and test on Debian 12, idempotently.
# Debian packages via apt (only the missing ones), npm test tools into tests/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential cmake ninja-build pkg-config git
  antlr4 libantlr4-runtime-dev default-jre-headless
  libboost-dev libfmt-dev catch2 libgraphviz-dev graphviz
  libsimdjson-dev libyaml-cpp-dev libcli11-dev zlib1g-dev libre2-dev libicu-dev
  clang libclang-rt-14-dev
  nodejs npm
  chromium  # headless screenshot test of the coverage HTML report
  libxml2-utils  # xmllint: `ward test --junit` output checked against tests/tools/junit.xsd
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # a tool that is already on PATH (e.g. node/npm from another source) is good enough
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm test tools (Microsoft's Kusto language service, ajv), pinned by tests/package-lock.json
if [ ! -f tests/node_modules/.ward-stamp ] || [ tests/package.json -nt tests/node_modules/.ward-stamp ]; then
  echo "install-deps: installing npm test tools"
  (cd tests && { [ -f package-lock.json ] && npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; })
  touch tests/node_modules/.ward-stamp
fi
