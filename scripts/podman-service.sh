#!/usr/bin/env bash
# Provide a Docker-compatible API with Podman for the docker backend's tests on
# a machine with no Docker Engine and no image registry (DESIGN.md, "Docker API
# without a registry"). Idempotent: a second run only checks and answers.
#
#   scripts/podman-service.sh [SOCKET_PATH]   (default /run/flowforge-podman/docker.sock)
#
# Steps: install podman, runc, netavark, aardvark-dns, iptables with apt-get if
# missing (root podman: no uidmap/slirp4netns needed); write
# /etc/containers/containers.conf; build localhost/flowforge-base:latest if
# absent; start `podman system service --time=0` on the socket unless one
# already answers; wait for /_ping. The last line on stdout is
# DOCKER_HOST=unix://SOCKET_PATH. Progress goes to stderr; on failure one line
# on stderr and a non-zero exit.

set -euo pipefail

SOCKET="${1:-/run/flowforge-podman/docker.sock}"
SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGE="localhost/flowforge-base:latest"
CONF=/etc/containers/containers.conf
PACKAGES=(podman runc netavark aardvark-dns iptables)
READY_TIMEOUT_S=30

fail() {
    echo "podman-service: $*" >&2
    exit 1
}

note() {
    echo "podman-service: $*" >&2
}

# Anything unforeseen still ends in one line naming the command.
trap 'fail "unexpected failure (line $LINENO): $BASH_COMMAND"' ERR

[[ "$SOCKET" == /* ]] || fail "socket path must be absolute, got '$SOCKET'"
# Rootful only: rootless podman has its own storage (no base image there) and
# needs uidmap/slirp4netns, which this setup does not provide.
[[ $EUID -eq 0 ]] || fail "must run as root (it installs packages and runs a rootful podman service)"
RUNDIR="$(dirname "$SOCKET")"
LOG="$RUNDIR/podman-service.log"
PIDFILE="$RUNDIR/podman-service.pid"
mkdir -p "$RUNDIR" 2>/dev/null || fail "cannot create the socket folder $RUNDIR"

# The service's last error line (its log also carries harmless syslog noise).
last_log_line() {
    local line
    line=$(grep -E 'level=(error|fatal)|^Error' "$LOG" 2>/dev/null | tail -n 1) || true
    [[ -n "$line" ]] || line=$(tail -n 1 "$LOG" 2>/dev/null) || true
    echo "${line:-no log output}"
}

ping_ok() {
    [[ -S "$SOCKET" ]] || return 1
    [[ "$(curl -s --max-time 2 --unix-socket "$SOCKET" http://d/_ping 2>/dev/null)" == "OK" ]]
}

# -- 1. packages ----------------------------------------------------------------

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
command -v curl >/dev/null 2>&1 || missing+=(curl)

if ((${#missing[@]})); then
    note "installing ${missing[*]}"
    # --no-install-recommends: the recommends are rootless and build bits
    # (buildah, fuse-overlayfs, slirp4netns, uidmap, dbus-user-session) that a
    # root service does not use. Naming netavark and aardvark-dns keeps apt
    # from satisfying containers-common's network-stack dependency with the
    # CNI plugins; netavark needs the iptables binary for its NAT rules.
    # A fresh machine may have no package lists yet.
    DEBIAN_FRONTEND=noninteractive apt-get update -q >"$RUNDIR/apt-get.log" 2>&1 \
        || fail "apt-get update failed: $(tail -n 1 "$RUNDIR/apt-get.log")"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >>"$RUNDIR/apt-get.log" 2>&1; then
        fail "apt-get install ${missing[*]} failed: $(tail -n 1 "$RUNDIR/apt-get.log")"
    fi
fi

# -- 2. containers.conf ---------------------------------------------------------

desired_conf=$(cat <<'CONF'
# Written by FlowForge scripts/podman-service.sh; rewritten when it differs.
[containers]
# Without CAP_SYS_RESOURCE podman's default ulimits (nofile 1048576) are
# refused by the kernel; stay below the hard limits we were given.
default_ulimits = ["nofile=10000:10000", "nproc=10000:10000"]
# Plain files under the container dir: `docker logs` works without journald.
log_driver = "k8s-file"

[engine]
# crun refuses hybrid cgroup v1/v2 hierarchies ("cgroups in hybrid mode not
# supported"); runc runs on them.
runtime = "runc"
# No systemd as PID 1: podman would fall back to these itself; say so here.
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
# Debian's podman ships /etc/cni/net.d/87-podman-bridge.conflist, so without
# this line it picks CNI (even with netavark installed) and fails for want of
# CNI plugins. netavark + aardvark-dns resolve container names on
# user-created networks.
network_backend = "netavark"
CONF
)

# $(...) drops trailing newlines on both sides, so the comparison is exact otherwise.
if [[ ! -f "$CONF" ]] || [[ "$(cat "$CONF")" != "$desired_conf" ]]; then
    mkdir -p "$(dirname "$CONF")"
    if [[ -f "$CONF" ]] && ! grep -q 'FlowForge scripts/podman-service.sh' "$CONF"; then
        cp -p "$CONF" "$CONF.flowforge-backup"
        note "kept the previous $CONF as $CONF.flowforge-backup"
    fi
    printf '%s\n' "$desired_conf" >"$CONF"
    note "wrote $CONF"
    conf_changed=1
else
    conf_changed=0
fi

# -- 3. base image --------------------------------------------------------------

if ! podman image exists "$IMAGE" 2>/dev/null; then
    note "building $IMAGE"
    if ! out=$("$SCRIPTS/make-base-image.sh" 2>&1); then
        fail "could not build $IMAGE: $(tail -n 1 <<<"$out")"
    fi
fi

# -- 4. API service -------------------------------------------------------------

service_pid() {
    local pid
    [[ -f "$PIDFILE" ]] || return 1
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    # Only our own service counts: the pid must still be podman on this socket.
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "system service --time=0 unix://$SOCKET" || return 1
    echo "$pid"
}

if ping_ok && [[ $conf_changed -eq 1 ]] && pid=$(service_pid); then
    # A running service keeps the old configuration; restart ours.
    note "restarting the service (pid $pid) to pick up $CONF"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi

if ping_ok; then
    note "API already answering on $SOCKET"
    [[ $conf_changed -eq 0 ]] || note "that service was not started by this script: restart it to pick up $CONF"
else
    if pid=$(service_pid); then
        note "service pid $pid exists but does not answer yet; waiting"
    else
        if [[ -S "$SOCKET" ]] && ss -xlH 2>/dev/null | grep -qF " $SOCKET "; then
            fail "another process listens on $SOCKET but does not answer /_ping; stop it or pick another socket"
        fi
        rm -f "$SOCKET"
        # A fresh log per start, so a failure reports this start's error.
        if [[ -f "$LOG" ]]; then mv -f "$LOG" "$LOG.previous"; fi
        note "starting podman system service on unix://$SOCKET (log $LOG)"
        # setsid + nohup: the service outlives this shell and its process group.
        # (setsid execs without forking here, so $! is podman's pid.)
        setsid nohup podman system service --time=0 "unix://$SOCKET" \
            >>"$LOG" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$PIDFILE"
    fi
    deadline=$((SECONDS + READY_TIMEOUT_S))
    until ping_ok; do
        if ! kill -0 "$pid" 2>/dev/null; then
            fail "podman system service exited before answering on $SOCKET: $(last_log_line)"
        fi
        ((SECONDS < deadline)) || fail "no answer on $SOCKET after ${READY_TIMEOUT_S} s: $(last_log_line)"
        sleep 0.1
    done
    note "API answering on $SOCKET (pid $(cat "$PIDFILE"))"
fi

echo "DOCKER_HOST=unix://$SOCKET"
