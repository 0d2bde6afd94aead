#!/usr/bin/env bash
# Installs the Debian packages Shop needs, only those that are missing. Sourced by run.sh and test.sh.
#   shop_require <package:command>...   e.g. shop_require postgresql:/usr/lib/postgresql/*/bin/postgres redis-server:redis-server

shop_log() { printf '\033[36m==>\033[0m %s\n' "$*" >&2; }

shop_found() {
  local probe=$1
  if [[ $probe == /* ]]; then
    compgen -G "$probe" >/dev/null
  else
    command -v "$probe" >/dev/null 2>&1
  fi
}

shop_require() {
  local missing=() spec package probe
  for spec in "$@"; do
    package=${spec%%:*}
    probe=${spec#*:}
    shop_found "$probe" || missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0

  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      shop_log "Missing Debian packages: ${missing[*]}. Install them as root: apt-get install ${missing[*]}"
      return 1
    fi
  fi

  shop_log "Installing missing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine has empty package lists; a stale one may point at removed versions.
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  shop_log "Installed: ${missing[*]}"
}

shop_require_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    shop_log "The .NET SDK 10 is needed (https://dot.net); 'dotnet' is not on PATH."
    return 1
  fi
}
