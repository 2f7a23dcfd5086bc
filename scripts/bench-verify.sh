#!/usr/bin/env bash
# Verify throughput on a 1 GB gzip dump, beside `gzip -t` on the same file in the same run.
#
#   scripts/bench-verify.sh [--size-mb N] [--reps N] [--dir DIR] [--fresh] [--no-build]
#
#   --size-mb   compressed size of the dump in MB (default 1024)
#   --reps      runs of each tool, alternating (default 3); best and median are printed
#   --dir       where the dump is made and kept for the next run (default /tmp/opsdeck-bench-verify)
#   --fresh     make the dump again
#   --no-build  use the existing target/release/examples/verify_file
#
# The dump: 256 MB of generated SQL INSERT lines (awk, fixed seed: about 4.8x compressible,
# not repetitive within gzip's 32 KiB window) repeated to the size needed, compressed with
# gzip -6 as two members made in parallel on two cores and concatenated, as pigz-style tools
# and `cat a.gz b.gz` produce; gzip -t and the verify read every member. Making it takes a
# few minutes once; it is kept in --dir.
#
# Each tool reads the file from the page cache (one cat to /dev/null first). The verify side
# is examples/verify_file.rs (the library call the Backups tab makes), without a sidecar
# and with a sha256 sidecar (one pass: hash and decode). MB = 10^6 bytes.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE_MB=1024
REPS=3
DIR=/tmp/opsdeck-bench-verify
FRESH=0
BUILD=1

while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mb) SIZE_MB="$2"; shift ;;
    --reps) REPS="$2"; shift ;;
    --dir) DIR="$2"; shift ;;
    --fresh) FRESH=1 ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

for tool in gzip awk sha256sum; do
  command -v "$tool" >/dev/null || { echo "needs $tool on PATH" >&2; exit 1; }
done

VERIFY="$REPO/target/release/examples/verify_file"
if [[ $BUILD == 1 ]]; then
  echo "building the verify example (release)..." >&2
  (cd "$REPO" && cargo build --release --quiet --example verify_file)
fi
[[ -x $VERIFY ]] || { echo "missing $VERIFY (drop --no-build)" >&2; exit 1; }

mkdir -p "$DIR"
CORPUS="$DIR/corpus.sql"
DUMP="$DIR/dump-${SIZE_MB}mb.sql.gz"
[[ $FRESH == 1 ]] && rm -f "$CORPUS" "$CORPUS.gz" "$DUMP" "$DUMP.sha256"

if [[ ! -s $CORPUS ]]; then
  echo "generating a 256 MB SQL corpus..." >&2
  awk -v q="'" 'BEGIN { srand(42)
    for (i = 1; ; i++) {
      printf "INSERT INTO orders VALUES (%d, %d, %scustomer-%05d%s, %.2f, %s2024-%02d-%02d %02d:%02d:%02d%s, %s%s%s);\n",
        i, int(rand() * 100000), q, int(rand() * 50000), q, rand() * 1000, q, 1 + int(rand() * 12),
        1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), int(rand() * 60), q,
        q, (rand() < 0.9 ? "shipped" : "pending"), q
    } }' | head -c 256000000 > "$CORPUS.tmp" || true
  mv "$CORPUS.tmp" "$CORPUS"
fi

if [[ ! -s $DUMP ]]; then
  # How many corpus copies make SIZE_MB of gzip -6 output: measure one copy's ratio.
  [[ -s $CORPUS.gz ]] || gzip -6 -c "$CORPUS" > "$CORPUS.gz"
  corpus_gz=$(stat -c %s "$CORPUS.gz")
  copies=$(( (SIZE_MB * 1000000 + corpus_gz - 1) / corpus_gz ))
  half=$(( (copies + 1) / 2 ))
  echo "compressing $copies copies of the corpus with gzip -6, two members in parallel..." >&2
  member() { for ((i = 0; i < $1; i++)); do cat "$CORPUS"; done | gzip -6 > "$2"; }
  member "$half" "$DUMP.1" &
  first=$!
  member $(( copies - half )) "$DUMP.2"
  wait "$first"
  cat "$DUMP.1" "$DUMP.2" > "$DUMP.tmp"
  rm -f "$DUMP.1" "$DUMP.2"
  mv "$DUMP.tmp" "$DUMP"
fi
if [[ ! -s $DUMP.sha256 ]]; then
  (cd "$DIR" && sha256sum "$(basename "$DUMP")" > "$DUMP.sha256")
fi

BYTES=$(stat -c %s "$DUMP")
cat "$DUMP" > /dev/null

now() { date +%s.%N; }
declare -A TIMES
DECODED=""
run() {  # name, command...
  local name=$1; shift
  local start end out
  start=$(now)
  out=$("$@")
  end=$(now)
  TIMES[$name]+="$(echo "$end - $start" | bc -l) "
  if [[ $out == ok* && -z $DECODED ]]; then
    DECODED=$(sed -n 's/.*decoded \([0-9]*\) bytes.*/\1/p' <<<"$out")
  fi
}

echo "file: $DUMP ($(echo "scale=1; $BYTES / 1000000" | bc) MB)" >&2
NAMES=("gzip -t" "opsdeck verify" "opsdeck verify + sha256")
for ((rep = 1; rep <= REPS; rep++)); do
  echo "run $rep of $REPS..." >&2
  run "gzip -t" gzip -t "$DUMP"
  run "opsdeck verify" "$VERIFY" "$DUMP"
  run "opsdeck verify + sha256" "$VERIFY" "$DUMP" "$DUMP.sha256"
done

echo
echo "$(echo "scale=1; $BYTES / 1000000" | bc) MB gzip -6 file, $(echo "scale=1; ${DECODED:-0} / 1000000" | bc) MB decoded, $REPS runs each, $(nproc) cores"
printf '%-26s %9s %9s %14s %16s\n' "" "best s" "median s" "MB/s (file)" "MB/s (decoded)"
for name in "${NAMES[@]}"; do
  read -r -a times <<<"${TIMES[$name]}"
  sorted=$(printf '%s\n' "${times[@]}" | sort -g)
  best=$(head -1 <<<"$sorted")
  median=$(sed -n "$(( (${#times[@]} + 1) / 2 ))p" <<<"$sorted")
  printf '%-26s %9.2f %9.2f %14.1f %16.1f\n' "$name" "$best" "$median" \
    "$(echo "$BYTES / $best / 1000000" | bc -l)" "$(echo "${DECODED:-0} / $best / 1000000" | bc -l)"
done
