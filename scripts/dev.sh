#!/usr/bin/env bash
# Melograph set-up and launch.  Installs whatever is missing (Debian packages when run as root or
# with password-less sudo, else prints the exact apt-get line; a virtual environment in .venv with
# the Python dependencies), then:
#   scripts/dev.sh app [FOLDER]        starts the app
#   scripts/dev.sh test [PYTEST ARGS]  runs the whole test suite
#   scripts/dev.sh cli COMMAND ...     runs a command-line tool (python main.py COMMAND ...)
# Idempotent: when nothing is missing it only checks (well under a second) and goes on.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

APT_PACKAGES=(
  # sound: PortAudio for sounddevice; ALSA's plugins give tests a fake (null) output device
  libportaudio2 libasound2-plugins
  # Qt offscreen
  libglib2.0-0 libgl1 libegl1 libfontconfig1 libxkbcommon0 libdbus-1-3
  # Qt in a real window (and under Xvfb for screenshots and tests)
  xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
  libxcb-render0 libxcb-shape0 libxcb-util1 libxcb-xkb1 libxkbcommon-x11-0
  # encoders used by the tests and benchmarks to generate fixture media of every format
  ffmpeg lame
  # the tests' private D-Bus session bus (MPRIS, "show in folder")
  dbus-daemon
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo"; else
    echo "melograph: missing system packages; run this once, then try again:" >&2
    echo "  sudo sh -c '$line'" >&2
    exit 1
  fi
  echo "melograph: installing system packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "melograph: creating .venv" >&2
  "$PY" -m venv .venv
fi
stamp=.venv/.melograph-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "melograph: installing Python dependencies into .venv (first time takes a few minutes)" >&2
  log=.venv/pip-install.log
  if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e ".[test]"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "melograph: installing the Python dependencies failed (full log: $log)" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi

cmd=${1:-app}
[ $# -gt 0 ] && shift
case "$cmd" in
  app)
    exec .venv/bin/python main.py "$@" ;;
  cli)
    exec .venv/bin/python main.py "$@" ;;
  test)
    export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
    export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
    set +e
    .venv/bin/python -m pytest "$@"
    rc=$?
    # pytest's 5 means "no tests collected": that is a failure for us, not a pass
    exit $rc ;;
  *)
    echo "usage: scripts/dev.sh app [FOLDER] | test [PYTEST ARGS] | cli COMMAND ..." >&2
    exit 2 ;;
esac
