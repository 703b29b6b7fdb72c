#!/usr/bin/env bash
# Installs the Debian packages Hujjat's optional readers and tests use, when missing and when we
# are allowed to (root). Never downloads anything but Debian packages.
set -u
need=()
command -v exiftool >/dev/null 2>&1 || need+=(libimage-exiftool-perl)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "note: missing Debian packages (${need[*]}); install them with apt-get for full functionality" >&2
  exit 0
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
  || echo "warning: could not install ${need[*]}; tests that need them will be skipped" >&2
exit 0
