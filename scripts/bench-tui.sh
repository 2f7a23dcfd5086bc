#!/usr/bin/env bash
# Measure opsdeck beside its peers (btop, htop, bottom) in one run, the same way for all:
# each program runs in its own private tmux server at 200x50 with a 1 s refresh, under
# ../shared/tools/tuibench.py beside this checkout (override with TUIBENCH=path/to/tuibench.py):
#
#   startup  time from launch to the first full frame (--ready regexes below), 5 reps
#   idle     CPU seconds and RSS over a 30 s window after a 5 s warmup, 3 reps
#   volume   bytes/s written to the pty over 30 s after a 5 s warmup, 3 reps
#
#   scripts/bench-tui.sh [--quick] [--no-build] [--only NAME[,NAME...]] [--out DIR]
#
#   --quick     smoke run: 5 s windows, 2 s warmup, 1 rep each
#   --no-build  use the existing target/release/opsdeck
#   --only      subset of: opsdeck,btop,htop,bottom
#   --out       results dir (default bench-results/<timestamp>/, gitignored)
#
# Every program gets a throw-away HOME and XDG dirs per measurement, so nobody's config
# or state is read or written; btop gets a btop.conf with update_ms = 1000.  All run
# with COLORTERM=truecolor (a modern terminal).  Missing peers are skipped.
# Prints a markdown table at the end; raw JSON per program/measurement and the full
# summarize.py table (summary-full.md) stay in the results dir, plus the console log.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TUIBENCH="${TUIBENCH:-$REPO/../shared/tools/tuibench.py}"
SUMMARIZE="$(dirname "$TUIBENCH")/summarize.py"
COLS=200
ROWS=50
QUICK=0
BUILD=1
ONLY="opsdeck,btop,htop,bottom"
OUT=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --no-build) BUILD=0 ;;
    --only) ONLY="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-tui.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

for tool in tmux python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench-tui.sh: $tool not found" >&2; exit 1; }
done
[[ -f "$TUIBENCH" ]] || { echo "bench-tui.sh: $TUIBENCH not found (set TUIBENCH=)" >&2; exit 1; }

if [[ $QUICK -eq 1 ]]; then
  IDLE_S=5; WARM_S=2; REPS_IDLE=1; REPS_START=1; REPS_VOL=1
else
  IDLE_S=30; WARM_S=5; REPS_IDLE=3; REPS_START=5; REPS_VOL=3
fi

cd "$REPO"
OUT="${OUT:-bench-results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
LOG="$OUT/bench.log"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/opsdeck-bench.XXXXXX")"
trap 'rm -rf --one-file-system "$WORK"' EXIT
trap 'exit 130' INT TERM

log() { echo "$*" | tee -a "$LOG"; }
FAILED=()

want() { [[ ",$ONLY," == *",$1,"* ]]; }

# fresh_home NAME -> prints a new private HOME (with .config/.local/share/.cache/.local/state)
fresh_home() {
  local h
  h="$(mktemp -d "$WORK/$1.XXXXXX")"
  mkdir -p "$h/.config" "$h/.local/share" "$h/.local/state" "$h/.cache"
  if [[ "$1" == btop* ]]; then
    mkdir -p "$h/.config/btop"
    # btop's default is update_ms = 2000; everything else stays default.
    printf 'update_ms = 1000\n' > "$h/.config/btop/btop.conf"
  fi
  echo "$h"
}

# bench NAME CMD READY_REGEX...
bench() {
  local name="$1" cmd="$2"; shift 2
  local ready=()
  for r in "$@"; do ready+=(--ready "$r"); done
  local kind h envs
  for kind in startup idle volume; do
    h="$(fresh_home "$name-$kind")"
    envs=(--env "HOME=$h" --env "XDG_CONFIG_HOME=$h/.config" --env "XDG_DATA_HOME=$h/.local/share"
          --env "XDG_STATE_HOME=$h/.local/state" --env "XDG_CACHE_HOME=$h/.cache"
          --env "COLORTERM=truecolor")
    log ""
    log "== $name: $kind"
    if ! case "$kind" in
      startup)
        python3 "$TUIBENCH" startup --name "$name" --cmd "$cmd" "${envs[@]}" --cols "$COLS" --rows "$ROWS" \
          --reps "$REPS_START" "${ready[@]}" --out "$OUT/$name-startup.json" 2>&1 | tee -a "$LOG" ;;
      idle)
        python3 "$TUIBENCH" idle --name "$name" --cmd "$cmd" "${envs[@]}" --cols "$COLS" --rows "$ROWS" \
          --reps "$REPS_IDLE" --duration "$IDLE_S" --warmup "$WARM_S" "${ready[@]}" \
          --out "$OUT/$name-idle.json" 2>&1 | tee -a "$LOG" ;;
      volume)
        python3 "$TUIBENCH" volume --name "$name" --cmd "$cmd" "${envs[@]}" --cols "$COLS" --rows "$ROWS" \
          --reps "$REPS_VOL" --duration "$IDLE_S" --warmup "$WARM_S" \
          --out "$OUT/$name-volume.json" 2>&1 | tee -a "$LOG" ;;
    esac
    then
      log "!! $name $kind failed (see above); continuing"
      FAILED+=("$name-$kind")
    fi
  done
}

log "# bench-tui $(date -Is)  host=$(hostname)  cores=$(nproc)  loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
log "# ${COLS}x${ROWS}, 1 s refresh, idle/volume window ${IDLE_S}s after ${WARM_S}s warmup, reps idle=$REPS_IDLE startup=$REPS_START volume=$REPS_VOL"
log "# results: $OUT"

# ---------------------------------------------------------------- opsdeck
if want opsdeck; then
  if [[ $BUILD -eq 1 ]]; then
    log "== cargo build --release"
    cargo build --release 2>&1 | tee -a "$LOG"
  fi
  BIN="$REPO/target/release/opsdeck"
  [[ -x "$BIN" ]] || { echo "bench-tui.sh: $BIN missing (build failed?)" >&2; exit 1; }
  log "# opsdeck $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet 2>/dev/null || echo '+dirty')  $("$BIN" --version 2>/dev/null || true)"
  # A full frame: the tab bar and the process table (its header appears with the first sample).
  bench opsdeck "$BIN --refresh 1s" 'Logs' 'PID'
fi

# ---------------------------------------------------------------- peers
find_bin() {  # find_bin NAME [FALLBACK_PATH...]
  local n="$1"; shift
  if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
  for p in "$@"; do [[ -x "$p" ]] && { echo "$p"; return 0; }; done
  return 1
}

if want btop; then
  if B="$(find_bin btop /usr/bin/btop)"; then
    log "# btop: $("$B" --version 2>/dev/null | head -n1)"
    # cpu box title + the process box's column header (drawn with the first data)
    bench btop "$B" 'cpu' 'Pid:'
  else log "-- btop not found, skipped"; fi
fi

if want htop; then
  if B="$(find_bin htop /usr/bin/htop)"; then
    log "# htop: $("$B" --version 2>/dev/null | head -n1)"
    # -d is in tenths of a second
    bench htop "$B -d 10" 'Load average' 'PID USER'
  else log "-- htop not found, skipped"; fi
fi

if want bottom; then
  if B="$(find_bin btm /opt/bottom/bin/btm)"; then
    log "# bottom: $("$B" --version 2>/dev/null | head -n1)"
    # --rate is the refresh interval (ms or a duration; default 1s, said explicitly)
    bench bottom "$B --rate 1000" 'CPU' 'PID'
  else log "-- bottom (btm) not found, skipped"; fi
fi

# ---------------------------------------------------------------- tables
if [[ -f "$SUMMARIZE" ]]; then
  python3 "$SUMMARIZE" "$OUT" > "$OUT/summary-full.md" || true
fi

python3 - "$OUT" "$ONLY" <<'PY' | tee "$OUT/summary.md" | tee -a "$LOG"
import json, os, sys
out, only = sys.argv[1], sys.argv[2].split(",")

def load(name, kind):
    p = os.path.join(out, f"{name}-{kind}.json")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)

def mm(s, scale=1.0, nd=2):
    if not s or s.get("median") is None:
        return "n/a"
    v = lambda x: f"{x * scale:.{nd}f}"
    if s["min"] == s["max"]:
        return v(s["median"])
    return f"{v(s['median'])} ({v(s['min'])}–{v(s['max'])})"

rows, noise = [], []
for name in only:
    I, S, V = load(name, "idle"), load(name, "startup"), load(name, "volume")
    if not (I or S or V):
        continue
    i = I["summary"] if I else {}
    s = S["summary"] if S else {}
    v = V["summary"] if V else {}
    notes = []
    if I and any(r.get("dead") for r in I["reps"]): notes.append("exited during idle!")
    if I and not all(r.get("ready") for r in I["reps"]): notes.append("idle: ready regex not seen")
    if S and any(r.get("ready_s") is None for r in S["reps"]): notes.append("startup: not ready in time")
    if V and any(r.get("dead") for r in V["reps"]): notes.append("exited during volume!")
    rows.append(f"| {name} | {mm(i.get('cpu_pct'), nd=2)} | {mm(i.get('rss_median_kb'), 1/1024, 1)} | "
                f"{mm(i.get('hwm_kb'), 1/1024, 1)} | {mm(s.get('ready_s'), 1000, 0)} | "
                f"{mm(v.get('bytes_per_s'), nd=0)} |" + (f" {'; '.join(notes)}" if notes else ""))
    if I:
        loads = ", ".join("/".join(r["loadavg"]) for r in I["reps"])
        noise.append(f"| {name} | {mm(i.get('sys_busy_pct'), nd=1)} | {mm(i.get('tmux_server_cpu_s'), nd=3)} | "
                     f"{loads} |")
first = next((load(n, "idle") for n in only if load(n, "idle")), None)
win = f"{first['duration']:.0f} s" if first else "?"
print()
print(f"### TUIs at 200x50, 1 s refresh — median (min–max); idle window {win}")
print()
print("| program | idle CPU % (1 core) | steady RSS MiB | peak RSS MiB | first frame ms | bytes/s |")
print("|---|---|---|---|---|---|")
print("\n".join(rows))
print()
print("Noise indicator (during the idle windows): whole machine busy % (all cores), our tmux server's CPU s, loadavg per rep")
print()
print("| program | machine busy % | tmux server CPU s | loadavg (1/5/15 min) per rep |")
print("|---|---|---|---|")
print("\n".join(noise))
print()
print(f"raw: {out}/*.json, full table: {out}/summary-full.md, log: {out}/bench.log")
PY

if [[ ${#FAILED[@]} -gt 0 ]]; then
  log "!! failed measurements: ${FAILED[*]}"
  exit 1
fi
