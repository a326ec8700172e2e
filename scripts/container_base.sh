#!/usr/bin/env bash
# Make the local base image that the container tests (and `make image` on a
# machine without a registry) build on: public registries (Docker Hub) are out
# of reach on the CI machines, so debian:bookworm-slim is replaced by a minimal
# Debian bookworm made with debootstrap from Debian's package mirror and
# imported into podman. Made once: an existing image is kept.
# This machine's extra CA certificates (an HTTPS proxy's) and pip settings are
# copied in, so that builds on this base reach PyPI and Maven Central as the
# host does; they are the machine's, not the project's, hence here and not in
# the Dockerfile.
# Usage: scripts/container_base.sh [IMAGE]   (default localhost/pipeline-base:bookworm)
set -euo pipefail
image=${1:-localhost/pipeline-base:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
if podman image exists "$image"; then
  echo "base image $image: present"
  exit 0
fi
command -v debootstrap >/dev/null || {
  echo "container_base.sh: error: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
root=$(mktemp -d /var/tmp/pipeline-base.XXXXXX)
cleanup() {
  # Keeps the script's exit status: a grep that finds no mount is no failure.
  local status=$?
  # An interrupted debootstrap leaves /proc and /sys mounted inside the root:
  # unmount them first, or rm would walk into the host's /proc.
  { grep -o " $root/[^ ]*" /proc/mounts || true; } | sort -r | while read -r mount; do umount -l "$mount" || true; done
  rm -rf --one-file-system "$root" "$root.log"
  exit "$status"
}
trap cleanup EXIT
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -n 20 "$root.log" >&2; echo "container_base.sh: error: debootstrap failed (log above)" >&2; exit 1; }
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"
tar -C "$root" -c . | podman import - "$image" >/dev/null
echo "base image $image: made with debootstrap from $mirror"
