#!/usr/bin/env bash
# Fetches axe-core (the accessibility checker the browser tests run) once, from the npm
# registry, into var/cache/npm/axe-core. Only the tests use it; the application never does.
set -euo pipefail
dest="${AXE_DIR:-$(cd "$(dirname "$0")/.." && pwd)/var/cache/npm/axe-core}"
[ -f "$dest/axe.min.js" ] && exit 0
if ! command -v npm >/dev/null 2>&1; then
  echo "npm absent : axe-core n'est pas téléchargé, les contrôles d'accessibilité seront ignorés." >&2
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent axe-core@4 >/dev/null)
tar xzf "$tmp"/axe-core-*.tgz -C "$tmp"
mkdir -p "$dest"
cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$tmp/package/package.json" "$dest/"
echo "axe-core $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$dest/package.json" | head -1) dans $dest"
