#!/usr/bin/env bash
# Usage: scripts/oracle-agreement.sh GGUF [OUT_DIR]
# node-llama-cpp against itself: its best CPU variant for this machine versus its haswell (AVX2,
# no AVX-512) variant, on the same GGUF. Other variants are hidden by renaming them for the
# duration of the second run and restored on exit, whatever happens.
set -euo pipefail
gguf=$1
out=${2:-$(mktemp -d)}
mkdir -p "$out"
bins=$(dirname "$(ls node_modules/@node-llama-cpp/linux-x64/bins/*/libggml-cpu-haswell.so)")
hidden=()
restore() { for f in "${hidden[@]}"; do mv "$f.hidden" "$f"; done; }
trap restore EXIT
node dist/scripts/oracle-agreement.js dump "$gguf" "$out/best.json"
for f in "$bins"/libggml-cpu-*.so; do
  case "$f" in *haswell.so|*-x64.so) ;; *) mv "$f" "$f.hidden"; hidden+=("$f") ;; esac
done
node dist/scripts/oracle-agreement.js dump "$gguf" "$out/haswell.json"
restore; hidden=()
node dist/scripts/oracle-agreement.js compare "$out/best.json" "$out/haswell.json"
