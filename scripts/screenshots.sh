#!/usr/bin/env bash
# The README's pictures, from real runs: tests/screenshots.rs starts a real
# PostgreSQL pair, Redis pair and Alertmanager, a catalog of real dumps and a
# log on loopback, drives the real binary in a PTY at 120x36 through every
# tab and the wall, asserts what each shows, and (with
# OPSDECK_WRITE_SCREENSHOTS) writes each screen as ANSI text; this script turns
# them into assets/<tab>.svg with scripts/ansi2svg.py and keeps a plain-text
# copy beside each. Needs what scripts/test needs (run as root) and python3.
#
#   scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d "${TMPDIR:-/tmp}/opsdeck-shots.XXXXXX")"
trap 'rm -rf "$work"' EXIT
OPSDECK_WRITE_SCREENSHOTS="$work" cargo test --locked --test screenshots -- --nocapture

for ans in "$work"/*.ans; do
  name="$(basename "$ans" .ans)"
  python3 scripts/ansi2svg.py "$ans" -o "assets/$name.svg" --cols 120 --rows 36 \
    --title "opsdeck: $name, from a real run"
  sed 's/\x1b\[[0-9;]*m//g' "$ans" > "assets/$name.txt"
  echo "assets/$name.svg"
done
