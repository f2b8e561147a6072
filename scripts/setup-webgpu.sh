#!/usr/bin/env bash
# Installs what the `webgpu` npm package (Google's Dawn built for Node) needs to run
# WGSL compute shaders on a machine with no GPU: the Vulkan loader plus Mesa's
# lavapipe, a CPU (llvmpipe-based) Vulkan driver.
#
# Why backports: Debian bookworm ships Mesa 22.3, whose lavapipe lacks a Vulkan
# feature Dawn requires (shaderUniform*ArrayDynamicIndexing), so Dawn finds no
# adapter. bookworm-backports carries Mesa 25, which works.
#
# Run as root (CI does). Idempotent: exits at once when Mesa >= 25 is installed.
# Needs nothing but apt and the Debian mirror already configured on the machine.
set -euo pipefail

MIN_MESA_MAJOR=25
# mesa-vulkan-drivers: lavapipe ICD (+ its LLVM runtime, pulled in as a dependency).
# libvulkan1: the Vulkan loader that Dawn dlopen()s (libvulkan.so.1).
PKGS=(mesa-vulkan-drivers libvulkan1)

log() { echo "setup-webgpu: $*" >&2; }

# Version of an installed package, empty when it is not (fully) installed.
installed_version() {
  dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null \
    | awk '$1 == "installed" { print $2 }'
}

# Fast path: everything already there, so do no apt work at all (keeps warm CI runs quick).
already_ok() {
  local v
  v="$(installed_version mesa-vulkan-drivers)"
  [[ -n "$v" ]] || return 1
  dpkg --compare-versions "$v" ge "${MIN_MESA_MAJOR}~" || return 1
  [[ -n "$(installed_version libvulkan1)" ]] || return 1
}

if already_ok; then
  log "mesa-vulkan-drivers $(installed_version mesa-vulkan-drivers) and libvulkan1 already installed; nothing to do"
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  log "must run as root (it installs Debian packages)"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC1091
. /etc/os-release
CODENAME="${VERSION_CODENAME:-bookworm}"

# Every apt source file, in both formats (one-line .list and deb822 .sources).
shopt -s nullglob
LIST_FILES=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
DEB822_FILES=(/etc/apt/sources.list.d/*.sources)
shopt -u nullglob

# Prints "URI<TAB>SIGNED_BY" of the enabled source that serves the main suite
# ($CODENAME), so backports comes from the same mirror with the same key.
find_mirror() {
  local f
  for f in "${DEB822_FILES[@]}"; do
    [[ -r "$f" ]] || continue
    # deb822: stanzas separated by blank lines; fields "Key: value" (comments start with #).
    awk -v suite="$CODENAME" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " suite " ") && uri != "")
          { printf "%s\t%s\n", uri, signed; found = 1; exit }
        types = ""; suites = ""; uri = ""; signed = ""; enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { next }   # continuation line (e.g. an inline Signed-By key block)
      {
        key = tolower($1); sub(/:$/, "", key)
        val = $0; sub(/^[^:]*:[ \t]*/, "", val)
        if (key == "types") types = val
        else if (key == "suites") suites = val
        else if (key == "uris") { split(val, u, /[ \t]+/); uri = u[1] }
        else if (key == "signed-by") signed = val
        else if (key == "enabled") enabled = tolower(val)
      }
      END { if (!found) flush() }
    ' "$f" | head -n1 | grep . && return 0
  done
  for f in "${LIST_FILES[@]}"; do
    [[ -r "$f" ]] || continue
    # One-line format: deb [options] URI SUITE COMPONENT...
    awk -v suite="$CODENAME" '
      $1 == "deb" {
        i = 2; opts = ""
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
        if ($(i + 1) == suite) {
          signed = ""
          if (match(opts, /signed-by=[^] ]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
          printf "%s\t%s\n", $i, signed; exit
        }
      }' "$f" | head -n1 | grep . && return 0
  done
  return 1
}

# Is a backports suite already configured (uncommented) anywhere?
has_backports() {
  local f
  for f in "${LIST_FILES[@]}" "${DEB822_FILES[@]}"; do
    [[ -r "$f" ]] && grep -Eq "^[^#]*[[:space:]]${CODENAME}-backports([[:space:]]|$)" "$f" && return 0
  done
  return 1
}

APT_T=()
if [[ "$CODENAME" == "bookworm" ]]; then
  # Step 1: add bookworm-backports (same mirror and keyring as the main suite) if absent.
  if ! has_backports; then
    mirror_line="$(find_mirror || true)"
    MIRROR="${mirror_line%%$'\t'*}"
    SIGNED_BY=""
    [[ "$mirror_line" == *$'\t'* ]] && SIGNED_BY="${mirror_line#*$'\t'}"
    if [[ -z "$MIRROR" ]]; then
      MIRROR="http://deb.debian.org/debian"
      log "no apt source for '$CODENAME' found; falling back to $MIRROR"
    fi
    # Backports is signed by the same Debian archive keys as the release itself;
    # reuse the main suite's keyring file, else Debian's standard one.
    [[ "$SIGNED_BY" == /* ]] || SIGNED_BY=/usr/share/keyrings/debian-archive-keyring.gpg
    log "adding ${CODENAME}-backports from $MIRROR"
    cat > "/etc/apt/sources.list.d/${CODENAME}-backports.sources" <<SRC
# Added by numforge scripts/setup-webgpu.sh: Mesa >= 25 (lavapipe) for Dawn/WebGPU.
Types: deb
URIs: ${MIRROR}
Suites: ${CODENAME}-backports
Components: main
Signed-By: ${SIGNED_BY}
SRC
  fi
  # Backports has a low pin priority (100); -t makes apt take its Mesa (and the
  # newer libs that Mesa 25 depends on) for this one install.
  APT_T=(-t "${CODENAME}-backports")
fi

# Step 2: refresh package lists (needed after adding a suite, and on a fresh machine
# whose lists may be empty or stale).
log "apt-get update"
apt-get update -qq

# Step 3: install the driver and loader. --no-install-recommends keeps X11/Wayland
# extras out; lavapipe runs headless.
log "installing ${PKGS[*]} ${APT_T[*]}"
apt-get install -y -qq --no-install-recommends "${APT_T[@]}" "${PKGS[@]}" >/dev/null

# Step 4: verify, so CI fails here with a clear message rather than later in Dawn.
if ! already_ok; then
  log "installed mesa-vulkan-drivers is '$(installed_version mesa-vulkan-drivers)', need >= ${MIN_MESA_MAJOR}"
  exit 1
fi
log "ok: mesa-vulkan-drivers $(installed_version mesa-vulkan-drivers), libvulkan1 $(installed_version libvulkan1)"
