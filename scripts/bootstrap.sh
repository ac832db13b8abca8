#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian machine: the C libraries
# (OpenBLAS, libpng) and a Python venv at .venv with the interop/conformance packages.
# Safe to rerun: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopenblas-dev libpng-dev pkg-config python3-venv)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Reinstall whenever the requirements change, so an old local venv never lacks a package.
requirements=Converters/python/requirements-ci.txt
stamp=.venv/.requirements.sha256
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$(sha256sum "$requirements" | cut -d' ' -f1)" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r "$requirements"
  sha256sum "$requirements" | cut -d' ' -f1 > "$stamp"
fi
