#!/usr/bin/env bash
# Installs and starts a real Docker engine and an offline base image
# (recipe: shared/docker-offline.md). Every step is skipped when already done,
# so this is cheap on a machine that has run it before.
set -euo pipefail

SOCK=/var/run/docker.sock
STATE=${SPOON_ENGINE_STATE:-/var/lib/spoon-ci}
mkdir -p "$STATE"

clear_stale_pid() {
  [ -f "$1" ] || return 0
  local pid state
  pid=$(cat "$1")
  state=$( (sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1) 2>/dev/null || true)
  if [ -z "$state" ] || [ "$state" = Z ]; then rm -f "$1"; fi
}

ping_engine() {
  curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1
}

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
command -v tmux >/dev/null 2>&1 || need_pkgs+=(tmux)
command -v ssh >/dev/null 2>&1 || need_pkgs+=(openssh-client)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
# The completion tests load spoon's scripts into each shell.
command -v zsh >/dev/null 2>&1 || need_pkgs+=(zsh)
command -v fish >/dev/null 2>&1 || need_pkgs+=(fish)
# The ssh:// engine test runs its own sshd on loopback; the package's service is not started.
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "setup-engine: installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Keep package scripts from starting services: this script starts what it needs.
  had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  [ $had_policy = 1 ] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  [ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d
fi

if ping_engine; then
  echo "setup-engine: engine already answers on $SOCK"
else
  echo "setup-engine: starting dockerd (log: $STATE/dockerd.log)"
  # dockerd refuses to start while its pid file, or that of the containerd it manages, names
  # a live process. Killed ones can linger as zombies until reaped, so those count as stale.
  clear_stale_pid /var/run/docker.pid
  clear_stale_pid /var/run/docker/containerd/containerd.pid
  # Started from / so that removing the folder this script ran from cannot affect it, and
  # with all its output in the log so that it holds none of this script's pipes open.
  # DOCKERD_ARGS: extra arguments (the engine-restart test passes those the killed dockerd had).
  # shellcheck disable=SC2086
  (cd / && exec setsid nohup dockerd ${DOCKERD_ARGS:-}) >"$STATE/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    ping_engine && break
    sleep 0.5
  done
  ping_engine || { echo "setup-engine: dockerd did not answer within 60 s"; tail -n 30 "$STATE/dockerd.log"; exit 1; }
  echo "setup-engine: engine is up"
fi

if curl -fsS --unix-socket "$SOCK" http://localhost/images/debian:bookworm/json >/dev/null 2>&1; then
  echo "setup-engine: debian:bookworm already present"
else
  echo "setup-engine: building debian:bookworm with debootstrap (~35 s)"
  rootfs=$(mktemp -d "$STATE/rootfs.XXXXXX")
  debootstrap --variant=minbase bookworm "$rootfs" >"$STATE/debootstrap.log" 2>&1 \
    || { tail -n 30 "$STATE/debootstrap.log"; exit 1; }
  # Import through the Engine API so neither docker CLI on PATH matters.
  tar -C "$rootfs" -c . | curl -fsS --unix-socket "$SOCK" -X POST \
    -H 'Content-Type: application/x-tar' --data-binary @- \
    'http://localhost/images/create?fromSrc=-&repo=debian&tag=bookworm' >/dev/null
  rm -rf "$rootfs"
  echo "setup-engine: debian:bookworm imported"
fi
