#!/usr/bin/env bash
# Installs the Debian packages that `make book`, `make pdf` and `make test` need and a bare
# Debian 12 lacks, if any are missing (idempotent: with everything present it installs nothing
# and prints nothing). Used by `make pdf`, `make test` and .ci/run.
#
#   the tools:   make, git, Python's venv (python3-venv), Node.js and npm (vendored front-end
#                files), CA certificates (pip and npm over HTTPS)
#   the PDF:     Pango and fonts for WeasyPrint (plusdig.publish.pdf, docs/pdf.md)
#   the tests:   pdftotext/pdftoppm (poppler-utils), Debian's Chromium (never a downloaded
#                browser build), libatomic1 (Playwright's driver needs libatomic.so.1)
#
# As root it runs apt-get itself; otherwise with sudo when sudo needs no password; otherwise
# it prints the one apt-get line to run and stops (exit 1) before anything else fails later.
set -euo pipefail
PYTHON=${PYTHON:-python3}
PACKAGES=(
  make git ca-certificates libatomic1
  chromium
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-freefont-otf fonts-dejavu
  poppler-utils
)
need=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
# Tools that may come from elsewhere than Debian (pyenv's Python, NodeSource's Node.js) are
# checked by what they do, not by package name.
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  need+=(python3 python3-venv)
elif ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  need+=(python3-venv)
fi
[ ${#need[@]} -eq 0 ] && exit 0

line="apt-get install -y --no-install-recommends ${need[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    {
      echo "system-deps: these Debian packages are missing: ${need[*]}"
      echo "system-deps: run this once as root (or with sudo), then run make again:"
      echo "  apt-get update && $line"
    } >&2
    exit 1
  fi
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO $line -qq >/dev/null
