#!/usr/bin/env bash
# System packages the tests need: headless Chromium and its driver for the browser tests,
# poppler-utils (pdftoppm) to turn the PDF reports into images in the tests.
# Idempotent; needs root (as on CI and the development machines) or does nothing but explain.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v pdftoppm >/dev/null; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "Installez chromium et chromium-driver (sudo apt-get install chromium chromium-driver poppler-utils) pour les tests navigateur."
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver poppler-utils >/dev/null
