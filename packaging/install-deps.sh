#!/usr/bin/env bash
# Installs every Debian package that Tributary's build, tests and demo need.
# Idempotent: packages already present are skipped; `apt-get update` runs at most once,
# and only when something is missing. Nothing is downloaded any other way.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang clang-format clang-tidy libclang-rt-14-dev
  # Debian packages: dpkg-shlibdeps (dependencies of the .deb files), adduser (their maintainer scripts)
  dpkg-dev adduser
  # libraries
  libuv1-dev libsqlite3-dev nlohmann-json3-dev doctest-dev libpaho-mqttpp-dev libpaho-mqtt-dev
  librdkafka-dev libexpected-dev libcli11-dev libfmt-dev libspdlog-dev libssl-dev
  zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev
  # test clients and tools
  mosquitto mosquitto-clients kcat python3 python3-kafka python3-confluent-kafka python3-paho-mqtt
  iproute2 iptables curl procps sqlite3
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (it calls apt-get)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# node and npm for the broker's kafkajs test (kafkajs itself comes from the npm registry into the test's
# build folder). Checked by command: a machine with a node of its own (e.g. nodesource's, which
# bundles npm) keeps it, since Debian's npm package would conflict with it.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian mosquitto package starts a system broker on 1883; our tests start their own on free ports.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
  systemctl stop mosquitto || true
  systemctl disable mosquitto >/dev/null 2>&1 || true
fi
