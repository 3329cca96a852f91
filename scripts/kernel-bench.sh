#!/bin/sh
# Builds and runs the kernel micro-benchmarks (native/bench/kernel_bench.cpp) in build-bench/:
#   scripts/kernel-bench.sh [threads] [repetitions] [case...]
set -e
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DMOONDREAM_KERNEL_BENCH=ON --log-level=WARNING >/dev/null
cmake --build build-bench --target kernel_bench >/dev/null
exec build-bench/kernel_bench "$@"
