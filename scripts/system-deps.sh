#!/usr/bin/env bash
# Installs the Debian packages the PDF build and the tests of the published book need, if any
# are missing: xelatex with Danish hyphenation and fonts, latexmk, xindy (PDF), pdftotext
# (PDF test), Debian's Chromium (browser tests; never a downloaded browser build), and
# Node.js/npm (vendored front-end files). Used by `make pdf`, `make test` and .ci/run.
set -euo pipefail
PACKAGES=(
  make
  chromium
  texlive-xetex texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended
  texlive-lang-european tex-gyre fonts-freefont-otf fonts-dejavu latexmk xindy
  poppler-utils
)
need=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
[ ${#need[@]} -eq 0 ] && exit 0
echo "system-deps: installing ${need[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "system-deps: missing ${need[*]}; install them as root: apt-get install ${need[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
