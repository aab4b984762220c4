#!/usr/bin/env bash
# Debian packages GridReach uses: espeak-ng (pyttsx3's speech engine on Linux).
# Installs them when we can (root with apt-get), otherwise says what is missing. Never fails the build:
# only the voice caller needs them, and it reports a clear error of its own.
set -u
missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages: ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || true
  fi
fi
still=()
for p in "${missing[@]}"; do command -v "$p" >/dev/null 2>&1 || still+=("$p"); done
if [ ${#still[@]} -gt 0 ]; then
  echo "note: missing Debian packages: ${still[*]} (sudo apt-get install ${still[*]}); the voice caller needs them" >&2
fi
exit 0
