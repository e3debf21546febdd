#!/usr/bin/env bash
# Builds the Debian packages from the release preset: tributary-broker, tributary-gateway and
# tributary-tools, into build/release/packages/. Only the packaged programs are compiled (not the
# tests). Needs dpkg-dev (dpkg-shlibdeps computes the dependencies): packaging/install-deps.sh.
#   bash packaging/build-packages.sh
#   sudo apt install ./build/release/packages/tributary-gateway_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."

cmake --preset release >/dev/null
cmake --build --preset release --target tributary-broker tributary-gateway tributary tributary-sim | tail -1
rm -rf build/release/packages
# cpack installs each component from the build tree (no rebuild) and runs dpkg-shlibdeps on it.
(cd build/release && cpack -G DEB --config CPackConfig.cmake >/dev/null)
ls -1 build/release/packages/*.deb
