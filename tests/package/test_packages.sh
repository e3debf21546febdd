#!/usr/bin/env bash
# The Debian packages, installed on this machine and run as their systemd units would run them.
#
#   sudo bash tests/package/test_packages.sh              # builds the packages (release preset) first
#   sudo PKG_DIR=build/release/packages bash tests/package/test_packages.sh   # uses built ones
#
# 1. builds tributary-broker, tributary-gateway, tributary-tools (packaging/build-packages.sh) and
#    checks their control data: conffiles, dependencies from dpkg-shlibdeps, maintainer scripts;
# 2. installs them with dpkg, checks the users, the files, the conffiles dpkg records, the config's
#    statoverride, and `systemd-analyze verify` of the installed units (skipped without systemd-analyze);
# 3. gives the installed configs free 127.0.0.1 ports and the gateway its bootstrap server (as an
#    admin edits the conffiles), then starts each daemon as its unit would: ExecStart= from the
#    installed unit, as its User=/Group=, with the StateDirectory= made and owned like systemd does;
# 4. /health on both, a QoS 1 mosquitto_pub through the gateway, the record consumed from the broker
#    with the installed `tributary` CLI; ExecReload= (SIGHUP) of the gateway; SIGTERM, exit 0; the
#    gateway package installed again over its edited conffile (kept, with its mode and user);
# 5. dpkg --purge, then checks that binaries, /etc/tributary, units, enablement links, statoverride,
#    users and groups are gone; the data directories (kept by purge on purpose) are removed by the test.
# Cleanup runs on every exit (trap): processes this script started (by pid), the packages, whatever
# the packages left. The machine must not have them before: the test refuses to touch an existing
# install. Needs root; exits 77 (skip) otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
root_dir=$(pwd)

packages=(tributary-broker tributary-gateway tributary-tools)
users=(tributary-broker tributary-gateway)
step() { printf '\n== package test: %s ==\n' "$*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (installs packages with dpkg)" >&2
  exit 77
fi
for tool in dpkg dpkg-deb dpkg-query setpriv curl mosquitto_pub /usr/bin/python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing (packaging/install-deps.sh)"
done

# Nothing of ours may be here already: the cleanup removes all of it.
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
    fail "$p is installed on this machine; this test installs and purges it. Remove it first (dpkg --purge $p)."
  fi
done
for u in "${users[@]}"; do
  getent passwd "$u" >/dev/null && fail "user $u exists already; refusing to run"
  getent group "$u" >/dev/null && fail "group $u exists already; refusing to run"
done
for d in /etc/tributary /var/lib/tributary /lib/systemd/system/tributary-broker.service \
  /lib/systemd/system/tributary-gateway.service /etc/systemd/system/multi-user.target.wants/tributary-broker.service \
  /etc/systemd/system/multi-user.target.wants/tributary-gateway.service; do
  [ -e "$d" ] || [ -L "$d" ] && fail "$d exists already; refusing to run"
done
[ -n "$(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
  -name '*tributary-*' 2>/dev/null)" ] && fail "deb-systemd-helper holds state of tributary units; refusing to run"

work=$(mktemp -d /tmp/trib-pkg-test.XXXXXX)
pids=()
cleanup() {
  local rc=$?
  set +e
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  if [ $rc -ne 0 ]; then
    for f in "$work"/*.log; do
      [ -f "$f" ] || continue
      echo "---- $(basename "$f") (tail) ----"
      tail -n 30 "$f"
    done
  fi
  for p in "${packages[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv "not-installed"; then
      dpkg --purge "$p" >/dev/null 2>&1
    fi
  done
  # What a failed purge may have left (none of it existed before the test: checked above).
  dpkg-statoverride --list /etc/tributary/gateway.json >/dev/null 2>&1 &&
    dpkg-statoverride --remove /etc/tributary/gateway.json
  for u in "${users[@]}"; do
    getent passwd "$u" >/dev/null && userdel "$u"
    getent group "$u" >/dev/null && groupdel "$u"
  done
  rm -f /etc/systemd/system/multi-user.target.wants/tributary-broker.service \
    /etc/systemd/system/multi-user.target.wants/tributary-gateway.service
  find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
    -name '*tributary-*' -delete 2>/dev/null
  rm -rf /etc/tributary /var/lib/tributary "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. build and inspect -------------------------------------------------------------------------
if [ -n "${PKG_DIR:-}" ]; then
  pkg_dir=$(cd "$PKG_DIR" && pwd)
else
  step "build (release preset, packaged programs only)"
  bash packaging/build-packages.sh
  pkg_dir=$root_dir/build/release/packages
fi
declare -A deb
for p in "${packages[@]}"; do
  f=$(ls "$pkg_dir"/"${p}"_*.deb 2>/dev/null | head -n 1)
  [ -n "$f" ] || fail "no ${p}_*.deb in $pkg_dir"
  deb[$p]=$f
done

step "control data"
for d in broker gateway; do
  p=tributary-$d
  info=$(dpkg-deb -I "${deb[$p]}")
  conffiles=$(dpkg-deb --ctrl-tarfile "${deb[$p]}" | tar -xOf - ./conffiles)
  [ "$conffiles" = "/etc/tributary/$d.json" ] || fail "$p conffiles: '$conffiles'"
  for s in postinst prerm postrm; do
    grep -q " $s" <<<"$info" || fail "$p has no $s"
  done
  depends=$(dpkg-deb -f "${deb[$p]}" Depends)
  # From dpkg-shlibdeps: versioned library packages, not hand-written names.
  for lib in libuv1 libc6 'libstdc\+\+6' adduser; do
    grep -Eq "(^|, )$lib( |,|$)" <<<"$depends" || fail "$p Depends lacks $lib: $depends"
  done
  echo "$p: conffiles $conffiles; Depends: $depends"
done
depends=$(dpkg-deb -f "${deb[tributary-gateway]}" Depends)
for lib in librdkafka1 libsqlite3-0 libssl3; do
  grep -Eq "(^|, )$lib( |,|$)" <<<"$depends" || fail "tributary-gateway Depends lacks $lib"
done
depends=$(dpkg-deb -f "${deb[tributary-tools]}" Depends)
for lib in librdkafka1 libpaho-mqttpp3-1; do
  grep -Eq "(^|, )$lib( |,|$)" <<<"$depends" || fail "tributary-tools Depends lacks $lib: $depends"
done
dpkg-deb -c "${deb[tributary-tools]}" | grep -q '\./usr/bin/tributary-sim$' || fail "tributary-sim not in tributary-tools"

# --- 2. install -----------------------------------------------------------------------------------
step "dpkg -i"
dpkg -i "${deb[@]}" >"$work/dpkg-install.log" 2>&1 || fail "dpkg -i failed: $(cat "$work/dpkg-install.log")"
for b in tributary-broker tributary-gateway tributary tributary-sim; do
  [ -x /usr/bin/$b ] || fail "/usr/bin/$b not installed"
done
/usr/bin/tributary-broker --help >/dev/null || fail "tributary-broker --help"
for d in broker gateway; do
  p=tributary-$d
  recorded=$(dpkg-query -W -f='${Conffiles}' "$p")
  grep -q "^ /etc/tributary/$d.json [0-9a-f]\{32\}$" <<<"$recorded" || fail "dpkg does not hold $d.json as a conffile: $recorded"
  [ -f /lib/systemd/system/$p.service ] || fail "$p.service not installed"
  shell=$(getent passwd "$p" | cut -d: -f7)
  [ "$shell" = /usr/sbin/nologin ] || fail "user $p: shell '$shell'"
  [ "$(stat -c %U /var/lib/tributary/$d)" = "$p" ] || fail "/var/lib/tributary/$d not owned by $p"
  # Enabled like any Debian service (a link made without a running systemd).
  [ -L /etc/systemd/system/multi-user.target.wants/$p.service ] || fail "$p.service not enabled"
done
[ "$(stat -c '%U:%G %a' /etc/tributary/gateway.json)" = "root:tributary-gateway 640" ] ||
  fail "gateway.json is $(stat -c '%U:%G %a' /etc/tributary/gateway.json), want root:tributary-gateway 640"
[ "$(stat -c '%U:%G %a' /etc/tributary/broker.json)" = "root:root 644" ] || fail "broker.json mode"
/usr/bin/tributary-gateway --config /etc/tributary/gateway.json --print-config >/dev/null ||
  fail "the installed gateway.json does not load"

if command -v systemd-analyze >/dev/null; then
  step "systemd-analyze verify"
  systemd-analyze verify --man=no /lib/systemd/system/tributary-broker.service \
    /lib/systemd/system/tributary-gateway.service || fail "systemd-analyze verify"
  echo "units verify"
else
  echo "systemd-analyze not available: unit verification skipped"
fi

# --- 3. configure and start as the units would ----------------------------------------------------
step "configure (free ports) and start"
read -r kafka_port broker_http mqtt_port gw_http < <(/usr/bin/python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)
# Edits as an operator makes them: in place, in the conffiles, each line replaced exactly once.
edit() {
  local file=$1 from=$2 to=$3
  [ "$(grep -cF -- "$from" "$file")" = 1 ] || fail "$file: '$from' is not on exactly one line"
  /usr/bin/python3 -c 'import sys; p,a,b=sys.argv[1:]; s=open(p).read(); open(p,"w").write(s.replace(a,b))' \
    "$file" "$from" "$to"
}
edit /etc/tributary/broker.json '"listen": "0.0.0.0:9092"' "\"listen\": \"127.0.0.1:$kafka_port\""
edit /etc/tributary/broker.json '"listen": "0.0.0.0:9644"' "\"listen\": \"127.0.0.1:$broker_http\""
edit /etc/tributary/gateway.json '"listen": "0.0.0.0:1883"' "\"listen\": \"127.0.0.1:$mqtt_port\""
edit /etc/tributary/gateway.json '"listen": "0.0.0.0:9645"' "\"listen\": \"127.0.0.1:$gw_http\""
edit /etc/tributary/gateway.json '"bootstrap_servers": ""' "\"bootstrap_servers\": \"127.0.0.1:$kafka_port\""

# unit_value UNIT KEY: the value of KEY= in the installed unit (the last one wins, as in systemd).
unit_value() { sed -n "s/^$2=//p" "/lib/systemd/system/$1.service" | tail -n 1; }
declare -A pid_of
start_unit() {
  local unit=$1 user group cmd state mode umask_value
  user=$(unit_value "$unit" User)
  group=$(unit_value "$unit" Group)
  cmd=$(unit_value "$unit" ExecStart)
  state=$(unit_value "$unit" StateDirectory)
  mode=$(unit_value "$unit" StateDirectoryMode)
  umask_value=$(unit_value "$unit" UMask)
  [ -n "$user" ] && [ -n "$cmd" ] && [ -n "$state" ] || fail "$unit: User=, ExecStart= or StateDirectory= missing"
  # StateDirectory=: /var/lib/<dir>, owned by the unit's user, StateDirectoryMode= (systemd's default 0755).
  install -d -o "$user" -g "$group" -m "${mode:-0755}" "/var/lib/$state"
  echo "$unit: $cmd (as $user, state /var/lib/$state)"
  # shellcheck disable=SC2086
  (cd / && umask "${umask_value:-0022}" &&
    exec setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs --inh-caps=-all -- $cmd) \
    >"$work/$unit.log" 2>&1 &
  pid_of[$unit]=$!
  pids+=("$!")
}
start_unit tributary-broker
start_unit tributary-gateway

wait_health() {
  local name=$1 port=$2
  for _ in $(seq 300); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ]; then
      echo "$name /health: $(curl -s "http://127.0.0.1:$port/health")"
      return 0
    fi
    kill -0 "${pid_of[$name]}" 2>/dev/null || fail "$name exited at start"
    sleep 0.1
  done
  fail "$name /health not 200 within 30 s"
}
wait_health tributary-broker "$broker_http"
wait_health tributary-gateway "$gw_http"
for u in tributary-broker tributary-gateway; do
  owner=$(ps -o user= -p "${pid_of[$u]}")
  [ "$owner" = "$u" ] || fail "$u runs as '$owner'"
done

# --- 4. publish through the gateway, consume from the broker ---------------------------------------
step "publish through the gateway, consume from the broker"
cli=(/usr/bin/tributary -b "127.0.0.1:$kafka_port" --timeout-ms 30000)
"${cli[@]}" topic create telemetry.temp -p 1 >"$work/cli.log" 2>&1 || fail "topic create: $(cat "$work/cli.log")"
payload="pkg-test-$$-$(date +%s%N)"
mosquitto_pub -h 127.0.0.1 -p "$mqtt_port" -q 1 -i pkg-test -t sensors/dev-7/temp -m "$payload" ||
  fail "mosquitto_pub to the gateway"
got=$("${cli[@]}" consume telemetry.temp -n 1 -f '%k %v') || fail "no record consumed from the broker"
[ "$got" = "dev-7 $payload" ] || fail "consumed '$got', want 'dev-7 $payload'"
echo "consumed: $got"

step "ExecReload= (SIGHUP) and SIGTERM"
for u in tributary-gateway tributary-broker; do
  reload=$(unit_value "$u" ExecReload)
  reload=${reload//\$MAINPID/${pid_of[$u]}}
  $reload || fail "$u ExecReload: $reload"
  for _ in $(seq 100); do grep -q "event=reloaded" "$work/$u.log" && break; sleep 0.1; done
  grep -q "event=reloaded .*applied=0 needs_restart=0" "$work/$u.log" || fail "$u did not log a reload"
  echo "$u: ExecReload ($reload) reloaded"
done
for u in tributary-gateway tributary-broker; do
  kill -TERM "${pid_of[$u]}"
  rc=0
  for _ in $(seq 300); do kill -0 "${pid_of[$u]}" 2>/dev/null || break; sleep 0.1; done
  kill -0 "${pid_of[$u]}" 2>/dev/null && fail "$u still running 30 s after SIGTERM"
  wait "${pid_of[$u]}" || rc=$?
  [ $rc = 0 ] || fail "$u exited $rc after SIGTERM"
  grep -q "event=stopped" "$work/$u.log" || fail "$u: no event=stopped"
  echo "$u: SIGTERM, exit 0"
done
pids=()

step "reinstall over an edited conffile"
uid_before=$(id -u tributary-gateway)
dpkg -i --force-confold "${deb[tributary-gateway]}" >"$work/dpkg-reinstall.log" 2>&1 ||
  fail "dpkg -i again: $(cat "$work/dpkg-reinstall.log")"
grep -q "\"bootstrap_servers\": \"127.0.0.1:$kafka_port\"" /etc/tributary/gateway.json ||
  fail "the reinstall replaced the edited gateway.json"
[ "$(stat -c '%U:%G %a' /etc/tributary/gateway.json)" = "root:tributary-gateway 640" ] || fail "mode lost on reinstall"
[ "$(id -u tributary-gateway)" = "$uid_before" ] || fail "the user was made again"
echo "edited gateway.json kept, mode kept, same user"

# --- 5. purge and check that nothing is left ------------------------------------------------------
step "dpkg --purge"
dpkg --purge "${packages[@]}" >"$work/dpkg-purge.log" 2>&1 || fail "dpkg --purge: $(cat "$work/dpkg-purge.log")"
grep -q "kept /var/lib/tributary/gateway" "$work/dpkg-purge.log" || fail "purge did not say it kept the buffer"
[ -f /var/lib/tributary/gateway/buffer.db ] || fail "purge deleted the gateway's buffer"
rm -rf /var/lib/tributary  # the data this test made
left=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv "not-installed" && left+=("package $p")
done
for f in /usr/bin/tributary /usr/bin/tributary-sim /usr/bin/tributary-broker /usr/bin/tributary-gateway \
  /etc/tributary /lib/systemd/system/tributary-broker.service /lib/systemd/system/tributary-gateway.service \
  /etc/systemd/system/multi-user.target.wants/tributary-broker.service \
  /etc/systemd/system/multi-user.target.wants/tributary-gateway.service \
  /usr/share/doc/tributary-broker /usr/share/doc/tributary-gateway; do
  [ -e "$f" ] || [ -L "$f" ] && left+=("$f")
done
for u in "${users[@]}"; do
  getent passwd "$u" >/dev/null && left+=("user $u")
  getent group "$u" >/dev/null && left+=("group $u")
done
dpkg-statoverride --list /etc/tributary/gateway.json >/dev/null 2>&1 && left+=("statoverride")
[ -n "$(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
  -name '*tributary*' 2>/dev/null)" ] && left+=("deb-systemd-helper state")
[ ${#left[@]} -eq 0 ] || fail "left after purge: ${left[*]}"
echo "purged: nothing left"
echo PASS
