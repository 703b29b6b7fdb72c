#!/usr/bin/env bash
# Installs the Debian packages Hujjat's optional readers and tests use, when missing and when we
# are allowed to (root): exiftool (metadata), chromium + fonts (web capture, browser tests).
# Never downloads anything but Debian packages.
set -u
wanted=(libimage-exiftool-perl chromium fonts-liberation fonts-dejavu-core)
need=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: missing Debian packages (${need[*]}); install them with apt-get for full functionality" >&2
  exit 0
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
  || echo "warning: could not install ${need[*]}; tests that need them will be skipped" >&2
exit 0
