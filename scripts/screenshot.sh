#!/usr/bin/env bash
# Screenshots of opsdeck for the README: runs the release build in a private tmux server
# (own socket, 120x36, COLORTERM=truecolor, throw-away XDG dirs), waits until the process
# table is on screen and a few refreshes have filled the history charts, captures the pane
# with its colours and converts it to SVG.
#
#   scripts/screenshot.sh [--no-build] [--settle SECONDS] [--history DURATION] [--cols N] [--rows N]
#
#   --settle   seconds after launch before the Metrics capture (default 6)
#   --history  write [metrics] history = DURATION into the throw-away config; the charts
#              bucket the history window over their width (default 5m over ~44 columns is
#              ~7 s a column), so e.g. `--history 1m --settle 60` gives filled charts
#
# Writes assets/metrics.svg, assets/metrics.txt (plain text), assets/alerts.svg and
# assets/alerts.txt.  Needs tmux and python3 (stdlib only; scripts/ansi2svg.py).
# The throw-away config dir is shown as ~/.config in the captures (the Alerts tab names
# the config file), padded so the columns stay where they were.
# Only the tmux server this script started (socket opsdeck-shot-<pid>) is stopped.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COLS=120
ROWS=36
SETTLE=6      # seconds since launch before the Metrics capture (history charts need samples)
BUILD=1
HISTORY=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --settle) SETTLE="$2"; shift ;;
    --history) HISTORY="$2"; shift ;;
    --cols) COLS="$2"; shift ;;
    --rows) ROWS="$2"; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "screenshot.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

for tool in tmux python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "screenshot.sh: $tool not found" >&2; exit 1; }
done

cd "$REPO"
if [[ $BUILD -eq 1 ]]; then
  echo "== cargo build --release"
  cargo build --release
fi
BIN="$REPO/target/release/opsdeck"
[[ -x "$BIN" ]] || { echo "screenshot.sh: $BIN missing (build first)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/opsdeck-shot.XXXXXX")"
SOCK="opsdeck-shot-$$"
SERVER_PID=""
mkdir -p "$WORK/config" "$WORK/data" "$WORK/state" "$WORK/cache"
if [[ -n "$HISTORY" ]]; then
  mkdir -p "$WORK/config/opsdeck"
  printf '[metrics]\nhistory = "%s"\n' "$HISTORY" > "$WORK/config/opsdeck/config.toml"
fi
cat > "$WORK/tmux.conf" <<EOF
set -g default-terminal tmux-256color
set -g default-shell /bin/sh
set -g status off
set -g remain-on-exit on
set -g default-size ${COLS}x${ROWS}
EOF

tm() { env -u TMUX tmux -L "$SOCK" -f "$WORK/tmux.conf" "$@"; }

cleanup() {
  tm kill-server >/dev/null 2>&1 || true
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    sleep 0.5
    kill "$SERVER_PID" 2>/dev/null || true
  fi
  local sp="${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"
  [[ -S "$sp" ]] && rm -f "$sp"
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for REGEX TIMEOUT_S: poll the plain capture until it matches
wait_for() {
  local re="$1" timeout="$2" t=0
  while (( t < timeout * 10 )); do
    if tm capture-pane -p -t shot 2>/dev/null | grep -Eq -- "$re"; then return 0; fi
    if [[ "$(tm display -p -t shot '#{pane_dead}' 2>/dev/null)" == 1 ]]; then
      echo "screenshot.sh: opsdeck exited; last screen:" >&2
      tm capture-pane -p -t shot >&2 || true
      return 1
    fi
    sleep 0.1; t=$((t + 1))
  done
  echo "screenshot.sh: timed out waiting for /$re/; last screen:" >&2
  tm capture-pane -p -t shot >&2 || true
  return 1
}

echo "== launching opsdeck in tmux ($SOCK) at ${COLS}x${ROWS}"
T0=$(date +%s.%N)
tm new-session -d -s shot -x "$COLS" -y "$ROWS" \
  -e LANG=C.UTF-8 -e LC_ALL=C.UTF-8 -e COLORTERM=truecolor \
  -e XDG_CONFIG_HOME="$WORK/config" -e XDG_DATA_HOME="$WORK/data" \
  -e XDG_STATE_HOME="$WORK/state" -e XDG_CACHE_HOME="$WORK/cache" \
  "exec '$BIN' --refresh 1s"
SERVER_PID="$(tm display -p -t shot '#{pid}')"
size="$(tm display -p -t shot '#{pane_width}x#{pane_height}')"
[[ "$size" == "${COLS}x${ROWS}" ]] || echo "screenshot.sh: warning: pane is $size, not ${COLS}x${ROWS}" >&2

# The process table header only appears once the first node sample is in.
wait_for 'PID' 20
rest=$(python3 -c 'import sys, time; print(max(0.0, float(sys.argv[1]) - (time.time() - float(sys.argv[2]))))' "$SETTLE" "$T0")
sleep "$rest"

# homeify FILE: show the throw-away config dir as ~/.config; the characters saved are put
# back as spaces just before the line's last box border (or at its end), so nothing moves.
homeify() {
  python3 - "$1" "$WORK/config" <<'PY'
import sys
path, prefix = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8", errors="replace") as f:
    lines = f.read().split("\n")
for i, line in enumerate(lines):
    if prefix not in line:
        continue
    n = line.count(prefix)
    line = line.replace(prefix, "~/.config")
    pad = " " * (n * (len(prefix) - len("~/.config")))
    j = line.rfind("\u2502")  # the pane's right border
    lines[i] = line[:j] + pad + line[j:] if j > 0 else line + pad
sys.stdout.write("\n".join(lines))
PY
}

mkdir -p "$REPO/assets"
capture() {  # capture NAME TITLE
  local name="$1" title="$2"
  tm capture-pane -p -e -N -t shot > "$WORK/$name.raw.ans"
  tm capture-pane -p -t shot > "$WORK/$name.raw.txt"
  homeify "$WORK/$name.raw.ans" > "$WORK/$name.ans"
  homeify "$WORK/$name.raw.txt" > "$REPO/assets/$name.txt"
  python3 "$REPO/scripts/ansi2svg.py" "$WORK/$name.ans" -o "$REPO/assets/$name.svg" \
    --cols "$COLS" --rows "$ROWS" --title "$title"
  python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$REPO/assets/$name.svg"
  echo "   assets/$name.svg ($(wc -c < "$REPO/assets/$name.svg") bytes), assets/$name.txt"
}

echo "== capturing Metrics"
capture metrics "opsdeck — Metrics tab (${COLS}x${ROWS})"

echo "== switching to Alerts (key 2)"
tm send-keys -t shot 2
wait_for 'Alertmanager' 5
sleep 0.5
capture alerts "opsdeck — Alerts tab (${COLS}x${ROWS})"

echo "== done"
