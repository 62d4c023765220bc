#!/usr/bin/env bash
# System libraries the Python packages need: Pango and HarfBuzz (WeasyPrint), fonts with
# Vietnamese diacritics (DejaVu, Noto), poppler-utils (pdftotext/pdftoppm for PDF checks), and Debian's
# chromium, the headless browser the real-browser test (tests/test_browser.py) drives through Playwright.
# Installs only what is missing, with apt-get, when running as root; otherwise says what to install.
set -eu
libraries=$(ldconfig -p 2>/dev/null || true)
fonts=$(fc-list 2>/dev/null || true)
missing=()
case "$libraries" in *libpango-1.0.so*) ;; *) missing+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b) ;; esac
case "$libraries" in *libharfbuzz-subset.so*) ;; *) missing+=(libharfbuzz-subset0) ;; esac
case "$fonts" in *"DejaVu Sans"*) ;; *) missing+=(fonts-dejavu-core fontconfig) ;; esac
case "$fonts" in *"Noto Serif"*) ;; *) missing+=(fonts-noto-core) ;; esac
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "missing system packages: ${missing[*]} (install them with apt-get as root)" >&2
  exit 1
fi
