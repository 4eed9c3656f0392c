#!/usr/bin/env bash
# Builds the release artefact: one static x86_64 Linux binary (musl), with its dependency
# list embedded by cargo-auditable (so `cargo audit bin` / syft can read it on the SIEM host),
# and its SHA-256. Output: dist/siemtap-<version>-x86_64-linux-musl{,.sha256}.
#
# Needs: musl-tools (musl-gcc, for ring's C parts), the rustup target, cargo-auditable.
# Each missing piece stops the script with the command that installs it.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-unknown-linux-musl

if ! command -v musl-gcc >/dev/null; then
    echo "build-release: musl-gcc not found; install it with: apt-get install musl-tools" >&2
    exit 2
fi
if ! rustup target list --installed | grep -qx "$TARGET"; then
    rustup target add "$TARGET"
fi
if ! cargo auditable --version >/dev/null 2>&1; then
    echo "build-release: cargo-auditable not found; install it with: cargo install --locked cargo-auditable" >&2
    exit 2
fi

cargo auditable build --release --locked --target "$TARGET" -p siemtap

bin="target/$TARGET/release/siemtap"
version="$("$bin" --version | awk '{print $2}')"
mkdir -p dist
out="dist/siemtap-${version}-x86_64-linux-musl"
# Debug sections only; the symbol table stays for readable backtraces.
objcopy --strip-debug "$bin" "$out"
# The embedded dependency list must have survived the copy.
if ! objdump -h "$out" | grep -q '\.dep-v0'; then
    echo "build-release: $out lacks the cargo-auditable .dep-v0 section" >&2
    exit 1
fi
(cd dist && sha256sum "$(basename "$out")" > "$(basename "$out").sha256")
file "$out"
cat "$out.sha256"
