#!/usr/bin/env bash
# Measure opsdeck's Logs tab beside lnav and `tail -F` in one run, the same way for all
# (issue 7, "Benchmark"): each program runs in its own private tmux server at 200x50 under
# ../shared/tools/tuibench.py beside this checkout (override with TUIBENCH=path/to/tuibench.py):
#
#   open 1M    time until the last line of a 1,000,000-line (~127 MB) log is on screen,
#              RSS after it settles (tuibench logopen, tmux mode), 3 reps
#   open 1GB   the same for a 1 GB log (8,500,000 lines), 3 reps
#   follow     a writer appends 100,000 lines/s for 10 s to one file: CPU s of the program,
#              lag p95 (write to screen), catch-up after the writer stops, peak RSS
#              (tuibench follow, tmux mode), 3 reps
#   follow x4  the same load spread over 4 files, 25,000 lines/s each (scripts/follow_multi.py,
#              tuibench's writer and helpers), 3 reps
#
#   scripts/bench-logs.sh [--quick] [--no-build] [--only NAME[,NAME...]] [--out DIR] [--cache DIR]
#
#   --quick     smoke run: 1 rep each, 3 s of writing instead of 10
#   --no-build  use the existing target/release/opsdeck
#   --only      subset of: opsdeck,lnav,tail
#   --out       results dir (default bench-results/<timestamp>/, gitignored)
#   --cache     where the generated logs are kept between runs (default target/bench-logs/)
#
# The logs come from ../shared/tools/gen_log.py (fixed seed and start time, so they are the
# same on every machine) and are made once; their last line's `seq=` field is unique and is
# the marker.  Every program gets a throw-away HOME and XDG dirs per measurement.  Missing
# peers are skipped.  Filtering 1,000,000 buffered lines is `cargo bench --bench logs`
# (filter_1m_buffered_lines), not part of this script.
# Prints a markdown table at the end; raw JSON per program/measurement, summarize.py's table
# (summary-full.md) and the console log stay in the results dir.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TUIBENCH="${TUIBENCH:-$REPO/../shared/tools/tuibench.py}"
TOOLS="$(dirname "$TUIBENCH")"
SUMMARIZE="$TOOLS/summarize.py"
GEN_LOG="$TOOLS/gen_log.py"
FOLLOW_MULTI="$REPO/scripts/follow_multi.py"
COLS=200
ROWS=50
QUICK=0
BUILD=1
ONLY="opsdeck,lnav,tail"
OUT=""
CACHE=""
LINES_1M=1000000
LINES_1G=8500000          # ~1.08 GB with gen_log.py's lines (~127 bytes each)
START_EPOCH=1767225600    # 2026-01-01 00:00 UTC: the same log on every machine
SEED=42

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --no-build) BUILD=0 ;;
    --only) ONLY="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --cache) CACHE="$2"; shift ;;
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-logs.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

for tool in tmux python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench-logs.sh: $tool not found" >&2; exit 1; }
done
for f in "$TUIBENCH" "$GEN_LOG" "$FOLLOW_MULTI"; do
  [[ -f "$f" ]] || { echo "bench-logs.sh: $f not found (set TUIBENCH=)" >&2; exit 1; }
done

if [[ $QUICK -eq 1 ]]; then
  REPS_OPEN=1; REPS_FOLLOW=1; FOLLOW_S=3
else
  REPS_OPEN=3; REPS_FOLLOW=3; FOLLOW_S=10
fi
RATE=100000
NFILES=4

cd "$REPO"
OUT="${OUT:-bench-results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
CACHE="${CACHE:-$REPO/target/bench-logs}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"
LOG="$OUT/bench.log"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/opsdeck-bench-logs.XXXXXX")"
trap 'rm -rf --one-file-system "$WORK"' EXIT
trap 'exit 130' INT TERM

log() { echo "$*" | tee -a "$LOG"; }
FAILED=()

want() { [[ ",$ONLY," == *",$1,"* ]]; }

# fresh_home NAME -> prints a new private HOME (with .config/.local/share/.local/state/.cache)
fresh_home() {
  local h
  h="$(mktemp -d "$WORK/$1.XXXXXX")"
  mkdir -p "$h/.config" "$h/.local/share" "$h/.local/state" "$h/.cache"
  echo "$h"
}

# gen_file NAME LINES -> makes $CACHE/NAME.log once (a .done stamp records how)
gen_file() {
  local name="$1" lines="$2" file="$CACHE/$1.log"
  local how="gen_log.py --lines $lines --seed $SEED --start-epoch $START_EPOCH"
  if [[ -f "$file" && -f "$file.done" && "$(cat "$file.done")" == "$how" ]]; then
    log "# $name: cached $file ($(du -h "$file" | cut -f1))"
    return 0
  fi
  rm -f "$file" "$file.done" "$file.tmp"
  local need_kb=$(( lines * 130 / 1024 + 65536 ))
  local free_kb
  free_kb="$(df -Pk "$CACHE" | awk 'NR==2 {print $4}')"
  if (( free_kb < need_kb )); then
    echo "bench-logs.sh: $CACHE has ${free_kb} kB free, $name needs ~${need_kb} kB" >&2
    exit 1
  fi
  log "== generating $file ($lines lines)"
  python3 "$GEN_LOG" "$file.tmp" --lines "$lines" --seed "$SEED" --start-epoch "$START_EPOCH" 2>&1 | tee -a "$LOG"
  mv "$file.tmp" "$file"
  echo "$how" > "$file.done"
}

# marker LINES -> the seq field of the last line (unique in the file)
marker() { printf 'seq=%09d' $(( $1 - 1 )); }

# check_marker FILE MARKER: the last line carries the marker
check_marker() {
  tail -n 1 "$1" | grep -q -- "$2" || { echo "bench-logs.sh: last line of $1 lacks $2" >&2; exit 1; }
}

# envs NAME KIND -> fills the ENVS array with a fresh HOME and its XDG dirs
ENVS=()
envs() {
  local h
  h="$(fresh_home "$1-$2")"
  ENVS=(--env "HOME=$h" --env "XDG_CONFIG_HOME=$h/.config" --env "XDG_DATA_HOME=$h/.local/share"
        --env "XDG_STATE_HOME=$h/.local/state" --env "XDG_CACHE_HOME=$h/.cache"
        --env "COLORTERM=truecolor")
}

# run NAME KIND: log a header, then the command; a failure is noted and the run goes on
run() {
  local name="$1" kind="$2"; shift 2
  log ""
  log "== $name: $kind"
  if ! "$@" 2>&1 | tee -a "$LOG"; then
    log "!! $name $kind failed (see above); continuing"
    FAILED+=("$name-$kind")
  fi
}

# bench NAME ONE_FILE_CMD MULTI_FILE_CMD  ({file}; {files} / {file0}..{file3})
bench() {
  local name="$1" cmd="$2" mcmd="$3"
  envs "$name" open1m
  run "$name" "open 1M" python3 "$TUIBENCH" logopen --name "$name 1M" --cmd "$cmd" "${ENVS[@]}" \
    --cols "$COLS" --rows "$ROWS" --reps "$REPS_OPEN" --file "$F1M" --marker "$M1M" \
    --out "$OUT/$name-open1m.json"
  envs "$name" open1g
  run "$name" "open 1GB" python3 "$TUIBENCH" logopen --name "$name 1GB" --cmd "$cmd" "${ENVS[@]}" \
    --cols "$COLS" --rows "$ROWS" --reps "$REPS_OPEN" --file "$F1G" --marker "$M1G" \
    --out "$OUT/$name-open1g.json"
  envs "$name" follow
  run "$name" "follow" python3 "$TUIBENCH" follow --name "$name" --cmd "$cmd" "${ENVS[@]}" --mode tmux \
    --cols "$COLS" --rows "$ROWS" --reps "$REPS_FOLLOW" --rate "$RATE" --seconds "$FOLLOW_S" \
    --out "$OUT/$name-follow.json"
  envs "$name" follow4
  run "$name" "follow x$NFILES" env TUIBENCH="$TUIBENCH" python3 "$FOLLOW_MULTI" --name "$name x$NFILES" \
    --cmd "$mcmd" "${ENVS[@]}" --cols "$COLS" --rows "$ROWS" --reps "$REPS_FOLLOW" --files "$NFILES" \
    --rate "$RATE" --seconds "$FOLLOW_S" --out "$OUT/$name-follow4.json"
}

log "# bench-logs $(date -Is)  host=$(hostname)  cores=$(nproc)  loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
log "# ${COLS}x${ROWS}, open reps=$REPS_OPEN, follow $RATE lines/s for ${FOLLOW_S}s (1 file, then $NFILES files) reps=$REPS_FOLLOW"
log "# results: $OUT   logs cache: $CACHE"

gen_file 1m "$LINES_1M"
gen_file 1g "$LINES_1G"
F1M="$CACHE/1m.log"; M1M="$(marker "$LINES_1M")"
F1G="$CACHE/1g.log"; M1G="$(marker "$LINES_1G")"
check_marker "$F1M" "$M1M"
check_marker "$F1G" "$M1G"
log "# 1M log: $(stat -c %s "$F1M") bytes, marker $M1M;  1GB log: $(stat -c %s "$F1G") bytes, marker $M1G"

# ---------------------------------------------------------------- opsdeck
if want opsdeck; then
  if [[ $BUILD -eq 1 ]]; then
    log "== cargo build --release"
    cargo build --release 2>&1 | tee -a "$LOG"
  fi
  BIN="$REPO/target/release/opsdeck"
  [[ -x "$BIN" ]] || { echo "bench-logs.sh: $BIN missing (build failed?)" >&2; exit 1; }
  log "# opsdeck $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet 2>/dev/null || echo '+dirty')  $("$BIN" --version 2>/dev/null || true)"
  multi="$BIN"
  for ((k = 0; k < NFILES; k++)); do multi+=" --log {file$k}"; done
  bench opsdeck "$BIN --log {file}" "$multi"
fi

# ---------------------------------------------------------------- peers
find_bin() {  # find_bin NAME [FALLBACK_PATH...]
  local n="$1"; shift
  if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
  for p in "$@"; do [[ -x "$p" ]] && { echo "$p"; return 0; }; done
  return 1
}

if want lnav; then
  if B="$(find_bin lnav /usr/bin/lnav)"; then
    log "# lnav: $("$B" -V 2>/dev/null | head -n1)"
    bench lnav "$B {file}" "$B {files}"
  else log "-- lnav not found (Debian: apt-get install lnav), skipped"; fi
fi

if want tail; then
  if B="$(find_bin tail /usr/bin/tail)"; then
    log "# tail: $("$B" --version 2>/dev/null | head -n1)"
    bench tail "$B -F {file}" "$B -F {files}"
  else log "-- tail not found, skipped"; fi
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

def S(r, key):
    return (r or {}).get("summary", {}).get(key)

def mm(s, scale=1.0, nd=2):
    if not s or s.get("median") is None:
        return "n/a"
    v = lambda x: f"{x * scale:.{nd}f}"
    if s["min"] == s["max"]:
        return v(s["median"])
    return f"{v(s['median'])} ({v(s['min'])}–{v(s['max'])})"

def opened(r):
    """Median ms to the marker; 'not shown' if a rep never showed it."""
    if not r:
        return "n/a"
    cell = mm(S(r, "marker_shown_s"), 1000, 0)
    missed = sum(1 for x in r["reps"] if x.get("marker_shown_s") is None)
    return cell + (f" ({missed}/{len(r['reps'])} not shown)" if missed else "")

def per_rep(r, key, nd):
    """median (min–max) of a per-rep field the summary may not carry"""
    xs = sorted(x[key] for x in (r or {}).get("reps", []) if x.get(key) is not None)
    if not xs:
        return "n/a"
    return mm({"median": xs[len(xs) // 2], "min": xs[0], "max": xs[-1]}, nd=nd)

def caught(r):
    if not r:
        return "n/a"
    miss = sum(1 for x in r["reps"] if x.get("catchup_after_writer_end_s") is None)
    return mm(S(r, "catchup_after_writer_end_s"), nd=2) + (f" ({miss} never)" if miss else "")

rows, detail, noise = [], [], []
lnav_cpu = {}
for name in only:
    o1, og, fo, f4 = (load(name, k) for k in ("open1m", "open1g", "follow", "follow4"))
    if not (o1 or og or fo or f4):
        continue
    if name == "lnav":
        lnav_cpu = {"1": S(fo, "cpu_s"), "4": S(f4, "cpu_s")}
    rss = f"{mm(S(o1, 'rss_after_settle_kb'), 1/1024, 1)} / {mm(S(fo, 'rss_peak_kb'), 1/1024, 1)}"
    rows.append(f"| {name} | {opened(o1)} | {opened(og)} | {rss} | {mm(S(fo, 'cpu_s'))} | "
                f"{mm(S(fo, 'lag_p95_s'), nd=3)} | {mm(S(f4, 'cpu_s'))} | {mm(S(f4, 'lag_p95_s'), nd=3)} |")
    detail.append(f"| {name} | {mm(S(o1, 'cpu_at_shown_s'))} | {mm(S(og, 'cpu_at_shown_s'))} | "
                  f"{mm(S(og, 'rss_after_settle_kb'), 1/1024, 1)} | {mm(S(og, 'hwm_kb'), 1/1024, 1)} | "
                  f"{mm(S(fo, 'lag_median_s'), nd=3)} | {caught(fo)} | {mm(S(f4, 'lag_median_s'), nd=3)} | "
                  f"{caught(f4)} | {mm(S(f4, 'rss_peak_kb'), 1/1024, 1)} | "
                  f"{mm(S(fo, 'tmux_server_cpu_s'))} / {mm(S(f4, 'tmux_server_cpu_s'))} |")
    rate = lambda r: f"{min(x['writer_rate_lps'] for x in r['reps']):,.0f}" if r and r["reps"] else "n/a"
    noise.append(f"| {name} | {per_rep(fo, 'sys_busy_pct', 0)} | {per_rep(f4, 'sys_busy_pct', 0)} | "
                 f"{rate(fo)} / {rate(f4)} |")

def quarter(s):
    return f"≤ {s['median'] / 4:.2f} (¼ of lnav's)" if s and s.get("median") is not None else "≤ ¼ of lnav's"

any_fo = next((load(n, "follow") for n in only if load(n, "follow")), None)
secs = f"{any_fo['seconds']:.0f}" if any_fo else "?"
print()
print(f"### Logs: open and follow at 200x50 (tmux) — median (min–max) over reps; follow = 100,000 lines/s for {secs} s")
print()
print("| program | open 1M ms | open 1GB ms | RSS MiB (after open 1M / peak following) | follow CPU s | lag p95 s "
      "| 4-file CPU s | 4-file lag p95 s |")
print("|---|---|---|---|---|---|---|---|")
print("\n".join(rows))
print(f"| target (opsdeck) | ≤ 50 | ≤ 50 | ≤ 40 | {quarter(lnav_cpu.get('1'))} | ≤ 0.1 | "
      f"{quarter(lnav_cpu.get('4'))} | ≤ 0.1 |")
print()
print("Details: CPU s until the end was shown, RSS after opening the 1 GB file (settled / peak), lag median, "
      "catch-up after the writer(s) stopped, peak RSS with 4 files, our tmux server's CPU s (1 file / 4 files)")
print()
print("| program | open 1M CPU s | open 1GB CPU s | 1GB RSS MiB | 1GB peak MiB | lag median s | catch-up s "
      "| 4-file lag median s | 4-file catch-up s | 4-file peak RSS MiB | tmux server CPU s |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
print("\n".join(detail))
print()
print("Noise indicator: whole machine busy % (all cores) while following, and the slowest writer rate reached "
      "(lines/s, 1 file / 4 files)")
print()
print("| program | machine busy % (1 file) | machine busy % (4 files) | writer lines/s |")
print("|---|---|---|---|")
print("\n".join(noise))
print()
print("Filtering 1,000,000 buffered lines (target ≤ 200 ms): `cargo bench --bench logs -- filter_1m_buffered_lines`")
print()
print(f"raw: {out}/*.json, full tables: {out}/summary-full.md, log: {out}/bench.log")
PY

if [[ ${#FAILED[@]} -gt 0 ]]; then
  log "!! failed measurements: ${FAILED[*]}"
  exit 1
fi
