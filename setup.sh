#!/usr/bin/env bash
# Install what bookgen needs on Debian/Ubuntu and build the demo book.
#   ./setup.sh              TeX Live + fonts (apt), bookgen in .venv (pip), then build/demo.pdf
#   ./setup.sh --no-build   install only
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
  texlive-xetex texlive-lang-chinese texlive-lang-cjk texlive-latex-recommended texlive-latex-extra
  texlive-science texlive-plain-generic lmodern latexmk fonts-noto-cjk poppler-utils
  librsvg2-bin  # rsvg-convert: the blog's SVG figures become PDF for xelatex
  texlive-pictures  # pict2e (the preamble's curves for MathJax's \enclose{circle}, \overparen); latex-extra pulls it in too
  # The fallback chain (bookgen/fonts.py): characters Latin Modern and Noto CJK lack.
  fonts-noto-core   # Noto Serif (IPA…), Noto Sans Math, Noto Sans Symbols and Symbols2 (12 MB)
  fonts-dejavu-core # DejaVu Sans and Sans Mono: box drawing, block elements (1 MB)
  fonts-symbola     # emoji, in black and white (1.3 MB)
  fonts-hanazono    # HanaMinA/B: CJK Extension B and later, which Noto CJK lacks (22 MB)
  fonts-unifont     # the last resort: a glyph for every character of the BMP (2 MB)
)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null
    rm -rf .venv && python3 -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

if [ "${1:-}" != "--no-build" ]; then
  .venv/bin/bookgen build demo
  echo "setup: done — open build/demo.pdf; run the tests with: .venv/bin/python -m pytest"
fi
