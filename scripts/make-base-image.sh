#!/usr/bin/env bash
# Make localhost/flowforge-base:latest, the registry-free base image for the
# docker backend's tests (DESIGN.md, "Docker API without a registry").
#
# The image holds nothing but the merged-/usr symlinks (bin lib lib64 sbin ->
# usr/...) and empty etc tmp var run; every container bind-mounts the host's
# /usr read-only and runs the host's Debian binaries. Podman itself provides
# /dev, /proc, /sys, /dev/shm (64 MB), and bind-mounts /etc/hosts,
# /etc/hostname and /etc/resolv.conf (pointing at aardvark-dns on a
# user-created network), so container names resolve with an empty /etc.
#
# Minimal mounts per program, each tried on Debian 12 with podman 4.3.1 + runc
# (docker-py spellings; the podman CLI takes the same as -v/--tmpfs/-e):
#
#   all          Mount('/usr', '/usr', type='bind', read_only=True)
#                (binaries, shared libraries, zoneinfo; /lib64/ld-linux-x86-64.so.2
#                resolves through the lib64 -> usr/lib64 symlink)
#
#   redis-server ['/usr/bin/redis-server', '--bind', '0.0.0.0', '--port', '6379',
#                 '--save', '', '--appendonly', 'no', '--protected-mode', 'no']
#                nothing else: no config file, nothing in /etc, runs as root.
#   redis-cli, Debian python3 (/usr/bin/python3, 3.11.2): nothing else; names
#                of containers on the same network resolve (glibc works
#                without /etc/nsswitch.conf).
#
#   project venv python: /work/main/.venv/bin/python is a symlink to pyenv's
#                /root/.pyenv/versions/3.11.7/bin/python3.11, pyvenv.cfg names
#                that home, and the project is an editable install (.pth ->
#                /work/main). All absolute, so mount both at the same paths:
#                  /root/.pyenv/versions/3.11.7  read-only
#                  /work/main                    read-only (venv + sources)
#                  env PYTHONDONTWRITEBYTECODE=1 (no .pyc writes into ro mounts)
#                ssl, sqlite3, asyncpg, redis, docker, locust, `harness --help`
#                all work; without the pyenv mount exec fails ("no such file").
#
#   postgres (initdb, postgres, pg_isready, psql from /usr/lib/postgresql/15/bin,
#                also linked from /usr/local/bin): refuses root and calls
#                getpwuid(), so it needs a passwd entry:
#                  Mount('/etc/passwd', '/etc/passwd', type='bind', read_only=True)
#                  Mount('/etc/group', '/etc/group', type='bind', read_only=True)
#                  user='postgres'   (uid 101 / gid 104 on this host)
#                Podman does add a line for a numeric user='101:104' when the
#                image has no /etc/passwd, but writes the file mode 0600, so a
#                non-root process cannot read it ("could not look up effective
#                user ID 101: Permission denied").
#                Data: tmpfs={'/var/lib/pg': 'rw,mode=0700,U'} (U chowns to the
#                container user; 'uid=101' is rejected as an unknown option),
#                `initdb -D /var/lib/pg/data --auth=trust -U postgres`, then
#                `postgres -D /var/lib/pg/data -c listen_addresses=* -k /tmp`
#                (-k /tmp: /var/run/postgresql does not exist in the image).
#                /dev/shm (64 MB) comes from podman. Ready in about 1 s.
#
#   clickhouse-server 18.16 (/usr/sbin/clickhouse-server):
#                --config-file=<XML like harness/stack/services.py writes, with
#                  listen_host 0.0.0.0 and path/tmp_path/logs in a tmpfs>
#                Mount of the config folder read-only, and for users_config:
#                  Mount('/etc/clickhouse-server', '/etc/clickhouse-server',
#                        type='bind', read_only=True)
#                environment TZ=UTC, else it dies at start with "Could not
#                determine local time zone: ... /etc/localtime" (mounting the
#                host's /etc/localtime read-only works too). working_dir in the
#                tmpfs. Answers /ping on 8123 within ~0.2 s.
#
# Usage: scripts/make-base-image.sh [--force]
#   Without --force an existing image is kept (exit 0, nothing done).

set -euo pipefail

IMAGE="localhost/flowforge-base:latest"

fail() {
    echo "make-base-image: $*" >&2
    exit 1
}

force=0
case "${1:-}" in
    "") ;;
    --force) force=1 ;;
    *) fail "unknown argument '$1' (usage: make-base-image.sh [--force])" ;;
esac

command -v podman >/dev/null 2>&1 || fail "podman not found; run scripts/podman-service.sh"

if [[ $force -eq 0 ]] && podman image exists "$IMAGE"; then
    echo "make-base-image: $IMAGE already present" >&2
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

root="$work/rootfs"
mkdir -p "$root"/{etc,var,run}
install -d -m 1777 "$root/tmp"
ln -s usr/bin "$root/bin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
ln -s usr/sbin "$root/sbin"

# Fixed owner, order and mtime: the same tarball (and image layer) every time.
tar -C "$root" --numeric-owner --owner=0 --group=0 --sort=name \
    --mtime='2024-01-01 00:00:00Z' -cf "$work/base.tar" .

podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'LABEL org.flowforge.base=true' \
    --change 'CMD ["/usr/bin/sleep", "infinity"]' \
    --message 'flowforge base: merged-/usr symlinks only; bind-mount the host /usr read-only' \
    "$work/base.tar" "$IMAGE" >/dev/null \
    || fail "podman import of $IMAGE failed"

echo "make-base-image: built $IMAGE" >&2
