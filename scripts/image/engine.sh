# Sourced: sets ENGINE to podman, or docker when its daemon answers, installing podman
# (Debian package) when neither is usable.
if [ -z "${ENGINE:-}" ]; then
  if command -v podman >/dev/null 2>&1; then
    ENGINE=podman
  elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    ENGINE=docker
  else
    sudo=
    [ "$(id -u)" = 0 ] || sudo="sudo -n"
    echo "image: installing podman (apt-get)" >&2
    $sudo apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q podman >&2 ||
      { echo "image: no podman or docker, and podman could not be installed" >&2; exit 1; }
    ENGINE=podman
  fi
fi
