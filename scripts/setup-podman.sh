#!/usr/bin/env bash
# Installs Podman, starts its Docker-compatible API service on
# /run/spoon-podman/podman.sock, and copies spoon's default image into it from the
# Docker engine (no registry, no build). Run after setup-engine.sh. Every step is
# skipped when already done, so this is cheap on a machine that has run it before.
# Recipe: shared/docker-offline.md.
set -euo pipefail
cd "$(dirname "$0")/.."

SOCK_DIR=/run/spoon-podman
SOCK=$SOCK_DIR/podman.sock
DOCKER_SOCK=/var/run/docker.sock
STATE=${SPOON_ENGINE_STATE:-/var/lib/spoon-ci}
CONF=$STATE/podman-containers.conf
mkdir -p "$STATE" "$SOCK_DIR"

ping_podman() {
  curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1
}

if ! command -v podman >/dev/null 2>&1; then
  echo "setup-podman: installing podman"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq podman >/dev/null
fi

# The sandbox's hard rlimits are lower than Podman's defaults; containers start only
# when the defaults fit. Its own file, so /etc/containers stays as the package left it.
conf_text='[containers]
default_ulimits = ["nofile=20000:20000", "nproc=1000:1000"]'
if [ "$(cat "$CONF" 2>/dev/null)" != "$conf_text" ]; then
  printf '%s\n' "$conf_text" >"$CONF"
  echo "setup-podman: wrote $CONF"
fi
export CONTAINERS_CONF=$CONF

# A service left by an earlier run whose working folder was deleted (a removed CI clone)
# answers pings but cannot start containers (conmon: "Failed to get working directory").
for pid in $(pgrep -f "podman system service.*$SOCK" || true); do
  if readlink "/proc/$pid/cwd" | grep -q ' (deleted)$'; then
    echo "setup-podman: restarting a podman service whose working folder is gone"
    kill "$pid"; sleep 1
  fi
done

if ping_podman; then
  echo "setup-podman: podman already answers on $SOCK"
else
  echo "setup-podman: starting podman system service (log: $STATE/podman.log)"
  rm -f "$SOCK"
  # Started from / so that removing the folder this script ran from cannot break it, and
  # with all its output in the log so that it holds none of this script's pipes open.
  (cd / && exec setsid nohup podman system service --time=0 "unix://$SOCK") >"$STATE/podman.log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    ping_podman && break
    sleep 0.5
  done
  ping_podman || { echo "setup-podman: podman did not answer within 30 s"; tail -n 30 "$STATE/podman.log"; exit 1; }
  echo "setup-podman: podman is up"
fi

# spoon's default image, built on Docker by `spoon build` (with nothing configured it builds
# the embedded Dockerfile, from cache when it is there, and prints the exact tag). Run from /
# with no user config, so no project or user setting changes what it builds.
if [ ! -f dist/spoon.js ]; then
  [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
  npm run build >/dev/null
fi
spoon_js=$PWD/dist/spoon.js
tag=$(cd / && DOCKER_HOST=unix://$DOCKER_SOCK XDG_CONFIG_HOME=/nonexistent node "$spoon_js" build)
[ -n "$tag" ] || { echo "setup-podman: spoon build printed no image tag"; exit 1; }

if podman image exists "$tag"; then
  echo "setup-podman: $tag already in podman"
else
  echo "setup-podman: copying $tag from Docker into podman"
  # Through the Engine API, so neither docker CLI on PATH matters.
  curl -fsS --unix-socket "$DOCKER_SOCK" "http://localhost/images/get?names=$tag" | podman load -q
  podman image exists "$tag" || { echo "setup-podman: $tag missing in podman after the load"; exit 1; }
fi
echo "setup-podman: ready ($tag on $SOCK)"
