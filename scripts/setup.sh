#!/usr/bin/env bash
# Installs everything the harness needs, and nothing twice:
#   - Debian's redis-server, postgresql, clickhouse-server, prometheus and chromium (apt-get; root or sudo)
#   - the Toxiproxy 2.12.0 server, built with `go install` into .tools/bin
#   - a virtualenv in .venv with the project installed from pyproject.toml
#   - `bench` only: Debian's nginx (the static endpoint of `make bench`)
# A prerequisite that cannot be installed stops the script with one line
# saying what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

TOXIPROXY_VERSION=v2.12.0
TOOLS_BIN="$PWD/.tools/bin"
PYTHON=${PYTHON:-python3}

die() { echo "setup: $*" >&2; exit 1; }
say() { echo "setup: $*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

debian_packages() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
  command -v clickhouse-server >/dev/null || [ -x /usr/sbin/clickhouse-server ] || missing+=(clickhouse-server)
  command -v runuser >/dev/null || missing+=(util-linux)
  # `harness run --observe` starts its own Prometheus on loopback, config and data in the run folder.
  command -v prometheus >/dev/null || [ -x /usr/bin/prometheus ] || missing+=(prometheus)
  # The report and game-day page are tested in a real browser: Debian's chromium, driven headless by Playwright.
  command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ ${#missing[@]} -eq 0 ] && return 0
  apt_install "${missing[@]}"
}

apt_install() {
  command -v apt-get >/dev/null || die "install $* (no apt-get here)"
  say "installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    || die "install $* as root (apt-get update failed or no root/sudo)"
  # policy-rc.d keeps the packages from starting system-wide services we never use.
  as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    || die "apt-get install $* failed"
  as_root rm -f /usr/sbin/policy-rc.d
}

bench_packages() {
  # The bench starts its own nginx from a config in a temp folder; the
  # package's system service stays off (policy-rc.d in apt_install).
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx-light
  command -v taskset >/dev/null || apt_install util-linux
}

toxiproxy() {
  local binary="$TOOLS_BIN/toxiproxy-server"
  # go install builds without version ldflags (the binary says "git"), so a
  # stamp file records which version was built.
  if [ -x "$binary" ] && [ "$(cat "$binary.version" 2>/dev/null)" = "$TOXIPROXY_VERSION" ]; then
    return 0
  fi
  command -v go >/dev/null || die "install Go (>= 1.22) to build toxiproxy-server $TOXIPROXY_VERSION"
  say "building toxiproxy-server $TOXIPROXY_VERSION with go install"
  mkdir -p "$TOOLS_BIN"
  local build; build=$(mktemp -d)
  GOBIN="$build" GOFLAGS=-mod=mod go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" \
    || die "go install github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION failed"
  mv "$build/server" "$binary"   # the module's binary is called `server`
  rm -rf "$build"
  echo "$TOXIPROXY_VERSION" > "$binary.version"
}

virtualenv() {
  local stamp=.venv/.installed
  if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then
    return 0
  fi
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "install Python >= 3.11 (found $("$PYTHON" --version 2>&1))"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv || die "install python3-venv"
  say "installing the project into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]' || die "pip install -e '.[test]' failed"
  touch "$stamp"
}

case "${1:-all}" in
  all) debian_packages; toxiproxy; virtualenv ;;
  python) virtualenv ;;
  bench) bench_packages ;;
  *) die "usage: scripts/setup.sh [all|python|bench]" ;;
esac
