#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real, when they are missing.
set -euo pipefail
# `system-deps.sh runtime`: only what the running application needs (make run).
need=()
if [ "${1:-}" != "runtime" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
  command -v curl >/dev/null 2>&1 || need+=(curl)  # the benchmarks download with it
fi
# WeasyPrint (the annual report's PDF) lays text out with Pango.
ldconfig -p 2>/dev/null | grep -q "libpango-1.0.so.0" || need+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0" || need+=(libpangoft2-1.0-0)
[ ${#need[@]} -eq 0 ] && exit 0
echo "Installation des paquets Debian manquants : ${need[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
