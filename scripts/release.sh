#!/usr/bin/env bash
# Build what a bastion installs: a release binary that runs on glibc 2.17 and
# newer (Debian 9+, Ubuntu 18.04+, RHEL/CentOS 7+), and a .deb with the man
# page and shell completions. The glibc floor is checked from the binary's
# own symbol versions, not assumed.
#
#   scripts/release.sh            # target/package/opsdeck, opsdeck_<version>_amd64.deb
#
# Needs: cargo-zigbuild (cargo install --locked cargo-zigbuild), zig from PyPI
# (pip install ziglang: cargo-zigbuild finds `python3 -m ziglang`), and
# cargo-deb (cargo install --locked cargo-deb) for the .deb.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-unknown-linux-gnu
GLIBC_FLOOR=2.17
DIST=target/package

for tool in cargo-zigbuild cargo-deb; do
  command -v "$tool" >/dev/null || { echo "release.sh: $tool is missing: cargo install --locked $tool" >&2; exit 2; }
done
python3 -c 'import ziglang' 2>/dev/null || command -v zig >/dev/null \
  || { echo "release.sh: zig is missing: pip install ziglang" >&2; exit 2; }

# zig links against glibc $GLIBC_FLOOR's symbol versions.
cargo zigbuild --locked --profile dist --target "$TARGET.$GLIBC_FLOOR"
bin="target/$TARGET/dist/opsdeck"

# The newest glibc symbol version the binary needs must not pass the floor.
newest=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
if [[ "$(printf '%s\n%s\n' "$newest" "$GLIBC_FLOOR" | sort -V | tail -1)" != "$GLIBC_FLOOR" ]]; then
  echo "release.sh: $bin needs glibc $newest, past the $GLIBC_FLOOR floor" >&2
  exit 1
fi
needed=$(objdump -p "$bin" | awk '/NEEDED/ {print $2}' | tr '\n' ' ')
echo "glibc floor ok: the newest symbol version needed is GLIBC_$newest; shared libraries: $needed"

mkdir -p "$DIST/completions"
cp "$bin" "$DIST/opsdeck"
"$bin" man | gzip -9n > "$DIST/opsdeck.1.gz"
"$bin" completions bash > "$DIST/completions/opsdeck"
"$bin" completions zsh > "$DIST/completions/_opsdeck"
"$bin" completions fish > "$DIST/completions/opsdeck.fish"

cargo deb --no-build --no-strip --profile dist --target "$TARGET" --output "$DIST/"
ls -l "$DIST"
size=$(stat -c %s "$DIST/opsdeck")
echo "binary: $((size / 1024 / 1024)) MiB ($size bytes)"
