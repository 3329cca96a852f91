#!/usr/bin/env bash
# Coverage-guided fuzzing of the model-file loaders (GGUF reader, text and vision loaders) with
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer, for a bounded time.
#   bash scripts/fuzz-gguf.sh [seconds]        default 120; findings are written to build-fuzz/findings
# Needs clang (installed from Debian if missing). Seeds: valid GGUFs written by the TS writer.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-120}"
command -v clang++ >/dev/null || { apt-get update -qq && apt-get install -y -qq clang; }
node scripts/fetch-ggml.mjs
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DMOONDREAM_FUZZ=ON -DMOONDREAM_SANITIZE=ON -DGGML_NATIVE=ON > /dev/null
cmake --build build-fuzz --target gguf_fuzz
npx tsc -p tsconfig.json
mkdir -p build-fuzz/corpus build-fuzz/findings
node dist/scripts/lib/fuzz-seeds.js build-fuzz/corpus
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
build-fuzz/gguf_fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
  -artifact_prefix=build-fuzz/findings/ build-fuzz/corpus
