#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer (build-sanitize/) and runs
# the native-facing test suites against it: GGUF reading (hostile files and mutations included),
# conversion, the tokenizer, image preprocessing, the model, answering and API abuse.
#   bash scripts/test-sanitize.sh            build (incremental) and run
# Any ASan/UBSan report fails the run. Leak checking is off: Node itself keeps memory at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/build-native.mjs --sanitize
npx tsc -p tsconfig.json

addon="$PWD/build-sanitize/RelWithDebInfo/moondream_ggml.node"
asan="$(gcc -print-file-name=libasan.so)"
ubsan="$(gcc -print-file-name=libubsan.so)"
export LD_PRELOAD="$asan $ubsan"
# allocator_may_return_null: an allocation the user asked for (maxPixels raised above a bomb) fails
# with NULL, as malloc does, instead of ASan aborting.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export MOONDREAM_GGML_ADDON="$addon"

suites=(
  dist/test/unit/gguf-roundtrip.test.js
  dist/test/unit/gguf-hostile.test.js
  dist/test/unit/tokenizer.test.js
  dist/test/unit/image-hostile.test.js
  dist/test/unit/image-inputs.test.js
  dist/test/model/convert.test.js
  dist/test/model/convert-errors.test.js
  dist/test/model/moondream2-layout.test.js
  dist/test/model/reference-goldens.test.js
  dist/test/model/answer.test.js
  dist/test/model/native-smoke.test.js
  dist/test/model/api-abuse.test.js
  dist/test/model/vnni-matrix.test.js
)
node --test --test-concurrency=1 "${suites[@]}"
