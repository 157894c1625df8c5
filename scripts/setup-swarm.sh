#!/usr/bin/env bash
# A real two-node Docker Swarm on this machine for spoon's swarm tests: two more dockerds,
# each in its own network namespace (sw1 = manager at 10.77.0.1, sw2 = worker at
# 10.77.0.2, on the bridge brsw), with debian:bookworm and spoon's default image loaded
# into both (no registry: every node needs the image). The main engine
# (/var/run/docker.sock, docker0) is never touched: no dockerd runs in the host's
# network namespace (it would take docker0 or shadow its route). Every step is skipped
# when already done. `setup-swarm.sh teardown` removes it all.
# Recipe: shared/swarm-offline.md. Run as root, after setup-engine.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=/tmp/swarm
DOCKER_SOCK=/var/run/docker.sock
sock() { echo "$ROOT/d$1/docker.sock"; }
api() { curl -fsS --max-time 10 --unix-socket "$(sock "$1")" "${@:2}"; }
ping_node() { curl -fsS --max-time 2 --unix-socket "$(sock "$1")" http://localhost/_ping >/dev/null 2>&1; }
log() { echo "setup-swarm: $*"; }

teardown() {
  for n in 1 2; do
    if ping_node "$n"; then
      for s in $(api "$n" http://localhost/services 2>/dev/null | grep -o '"ID":"[a-z0-9]*"' | cut -d'"' -f4 || true); do
        api "$n" -X DELETE "http://localhost/services/$s" >/dev/null 2>&1 || true
      done
    fi
  done
  for n in 2 1; do
    ping_node "$n" && api "$n" -X POST 'http://localhost/swarm/leave?force=1' >/dev/null 2>&1 || true
  done
  for n in 1 2; do
    pid=$(cat "$ROOT/d$n/pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
  done
  # dockerd bind-mounts its data-root onto itself and leaves nsfs mounts: unmount
  # (deepest first) before removing anything.
  grep " $ROOT" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l || true
  for n in 1 2; do ip netns del "sw$n" 2>/dev/null || true; done
  ip link del brsw 2>/dev/null || true
  iptables -D FORWARD -i brsw -o brsw -j ACCEPT 2>/dev/null || true
  rm -rf "$ROOT"
  log "torn down"
}

if [ "${1:-}" = teardown ]; then teardown; exit 0; fi
[ -z "${1:-}" ] || { echo "usage: setup-swarm.sh [teardown]" >&2; exit 2; }

for n in 1 2; do ip netns list | grep -qw "sw$n" || ip netns add "sw$n"; done
if ! ip link show brsw >/dev/null 2>&1; then
  ip link add brsw type bridge
  ip addr add 10.77.0.254/24 dev brsw
fi
ip link set brsw up
# The main engine sets FORWARD's policy to DROP, and bridged frames pass iptables here.
iptables -C FORWARD -i brsw -o brsw -j ACCEPT 2>/dev/null || iptables -I FORWARD -i brsw -o brsw -j ACCEPT

for n in 1 2; do
  if ! ip link show "vsw$n" >/dev/null 2>&1; then
    ip link add "vsw$n" type veth peer name eth0 netns "sw$n"
    ip link set "vsw$n" master brsw
    nsenter --net="/var/run/netns/sw$n" sh -c "ip addr add 10.77.0.$n/24 dev eth0; ip link set eth0 up; ip link set lo up; ip route add default via 10.77.0.254"
  fi
  ip link set "vsw$n" up
  mkdir -p "$ROOT/d$n"
  if ping_node "$n"; then
    log "node $n already answers on $(sock "$n")"
    continue
  fi
  rm -f "$(sock "$n")"
  # nsenter, not `ip netns exec` (which remounts /sys: dockerd then finds no devices
  # cgroup); started from / so that removing this checkout cannot break it. With no
  # registry, a task would first wait ~20 s for a pull to time out:
  # DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 makes the node use its local image.
  (cd / && DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 exec setsid nohup nsenter --net="/var/run/netns/sw$n" dockerd \
    --data-root "$ROOT/d$n/data" --exec-root "$ROOT/d$n/exec" \
    --pidfile "$ROOT/d$n/pid" -H "unix://$(sock "$n")") >"$ROOT/d$n/log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do ping_node "$n" && break; sleep 0.5; done
  ping_node "$n" || { log "node $n did not answer within 30 s"; tail -n 30 "$ROOT/d$n/log"; exit 1; }
  log "node $n is up"
done

D1="docker -H unix://$(sock 1)"
D2="docker -H unix://$(sock 2)"
state() { $1 info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null; }
if [ "$(state "$D1")" != active ]; then
  $D1 swarm init --advertise-addr 10.77.0.1 >/dev/null
  log "swarm initialised on node 1"
fi
if [ "$(state "$D2")" != active ]; then
  token=$($D1 swarm join-token -q worker)
  ok=
  for _ in 1 2 3; do
    if $D2 swarm join --token "$token" --advertise-addr 10.77.0.2 10.77.0.1:2377 >/dev/null 2>&1; then ok=1; break; fi
    $D2 swarm leave --force >/dev/null 2>&1 || true
    sleep 1
  done
  [ -n "$ok" ] || { log "node 2 could not join the swarm"; exit 1; }
  log "node 2 joined as a worker"
fi
# A node left drained or paused by an interrupted test would take no tasks.
for id in $($D1 node ls -q); do
  [ "$($D1 node inspect -f '{{.Spec.Availability}}' "$id")" = active ] || $D1 node update --availability active "$id" >/dev/null
done

# spoon's default image, built on the main engine by `spoon build` (from cache when there),
# as setup-podman.sh does.
if [ ! -f dist/spoon.js ]; then
  [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
  npm run build >/dev/null
fi
spoon_js=$PWD/dist/spoon.js
tag=$(cd / && DOCKER_HOST=unix://$DOCKER_SOCK XDG_CONFIG_HOME=/nonexistent node "$spoon_js" build)
[ -n "$tag" ] || { log "spoon build printed no image tag"; exit 1; }
for image in debian:bookworm "$tag"; do
  for n in 1 2; do
    if docker -H "unix://$(sock "$n")" image inspect "$image" >/dev/null 2>&1; then continue; fi
    log "loading $image into node $n"
    curl -fsS --unix-socket "$DOCKER_SOCK" "http://localhost/images/get?names=$image" | docker -H "unix://$(sock "$n")" load -q >/dev/null
  done
done
log "ready (manager unix://$(sock 1), worker unix://$(sock 2), image $tag)"
