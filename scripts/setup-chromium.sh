#!/usr/bin/env bash
# Installs Debian's `chromium`, which the browser tests (the report page, `numforge explore`) drive
# headless through test/support/chromium.ts. WebGPU in it runs on SwiftShader, which ships inside
# Chromium, so nothing else is needed.
#
# Run as root (CI does). Idempotent: exits at once when chromium is installed.
# Needs nothing but apt and the Debian mirror already configured on the machine.
set -euo pipefail

PKGS=(chromium)

log() { echo "setup-chromium: $*" >&2; }

# Version of an installed package, empty when it is not (fully) installed.
installed_version() {
  dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null \
    | awk '$1 == "installed" { print $2 }'
}

# Fast path: already there, so do no apt work at all (keeps warm CI runs quick).
already_ok() {
  [[ -n "$(installed_version chromium)" ]] && command -v chromium >/dev/null 2>&1
}

if already_ok; then
  log "chromium $(installed_version chromium) already installed; nothing to do"
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  log "must run as root (it installs Debian packages)"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
apt-get update -qq
# --no-install-recommends keeps desktop extras (fonts beyond the essentials, X11 utilities) out.
log "installing ${PKGS[*]}"
apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null

# Verify, so CI fails here with a clear message rather than later in a test.
if ! already_ok; then
  log "chromium did not install (dpkg reports '$(installed_version chromium)')"
  exit 1
fi
log "ok: chromium $(installed_version chromium)"
