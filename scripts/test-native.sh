#!/usr/bin/env bash
# The native tests: C++ programs that use the runtime through native/include/moondream.h, without
# Node (native/test/). Builds them in the addon's build folder (ggml and the core are reused), makes
# the tiny model they read (seed 7, f32: the configuration of test/fixtures/golden/native-smoke.json)
# and runs them with ctest.
#   bash scripts/test-native.sh        (npm run test:native)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f /usr/include/nlohmann/json.hpp ]; then
  echo "test-native: nlohmann/json is missing (Debian: apt-get install nlohmann-json3-dev)" >&2
  exit 1
fi
node scripts/build-native.mjs
npx tsc -p tsconfig.json
# Configure again: the build folder may predate nlohmann/json's install (cmake-js's settings stay cached).
cmake -S . -B build > /dev/null
cmake --build build --target runtime_smoke

model=build/native-test-model
seed=$(node -p "JSON.parse(require('fs').readFileSync('test/fixtures/golden/native-smoke.json', 'utf8')).checkpoint.seed")
if [ ! -f "$model/moondream1-text-model-f32.gguf" ] || [ ! -f "$model/moondream1-mmproj-f32.gguf" ]; then
  node dist/scripts/make-checkpoint.js --size tiny --seed "$seed" --out build/native-test-checkpoint > /dev/null
  node dist/src/cli/main.js convert build/native-test-checkpoint --out "$model" --type f32 --vision-type f32 > /dev/null
fi
ctest --test-dir build --output-on-failure --verbose
