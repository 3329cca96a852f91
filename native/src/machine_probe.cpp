// This machine's limits, measured rather than assumed: how fast `n_threads` threads stream memory,
// and how many fp32 FMAs and int8 multiply-adds they retire, each with the widest instructions the
// CPU has (the ones ggml's kernels use). The benchmark divides each stage by these.
//
// Kernels are compiled per instruction set with target attributes and picked at run time, so a
// portable build measures the same peaks as a native one.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "moondream_tools.h"

#if defined(__x86_64__) || defined(__i386__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* locals.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define MOONDREAM_X86 1
#endif

namespace moondream {

namespace {

using Clock = std::chrono::steady_clock;

// Runs `work(thread_index)` on n threads started together; returns the wall time in seconds.
template <typename Work>
double timed_parallel(int n_threads, Work work) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    threads.reserve(size_t(n_threads));
    for (int i = 0; i < n_threads; ++i) {
        threads.emplace_back([&, i] {
            ready.fetch_add(1);
            while (!go.load(std::memory_order_acquire)) {
            }
            work(i);
        });
    }
    while (ready.load() < n_threads) {
    }
    const auto start = Clock::now();
    go.store(true, std::memory_order_release);
    for (std::thread & t : threads) t.join();
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- fp32 FMA: 16 independent accumulators hide the FMA latency on every current core.

constexpr int kAccumulators = 16;

// always_inline: compiled inside each target-attributed caller, so with that caller's instructions.
template <typename V>
__attribute__((always_inline)) inline float fma_loop(int64_t iterations, float seed) {
    V acc[kAccumulators];
    V mul;
    V add;
    for (int j = 0; j < kAccumulators; ++j) acc[j] = V{} + seed * float(j + 1);
    mul = V{} + 0.999999f;
    add = V{} + 1e-7f;
    for (int64_t it = 0; it < iterations; ++it) {
        // Floating-point chains cannot be reassociated or folded without -ffast-math.
        for (int j = 0; j < kAccumulators; ++j) acc[j] = acc[j] * mul + add;
    }
    float sum = 0;
    for (int j = 0; j < kAccumulators; ++j) {
        for (size_t k = 0; k < sizeof(V) / sizeof(float); ++k) sum += acc[j][k];
    }
    return sum;
}

typedef float Float4 __attribute__((vector_size(16)));
#if MOONDREAM_X86
typedef float Float8 __attribute__((vector_size(32)));
typedef float Float16 __attribute__((vector_size(64)));
__attribute__((target("avx512f"))) float fma_avx512(int64_t n, float s) { return fma_loop<Float16>(n, s); }
__attribute__((target("avx2,fma"))) float fma_avx2(int64_t n, float s) { return fma_loop<Float8>(n, s); }
#endif
float fma_generic(int64_t n, float s) { return fma_loop<Float4>(n, s); }

struct FmaKernel {
    const char * isa;
    int lanes;
    float (*run)(int64_t, float);
};

FmaKernel pick_fma() {
#if MOONDREAM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return {"AVX-512 FMA", 16, fma_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {"AVX2 FMA", 8, fma_avx2};
#endif
    return {"128-bit SIMD", 4, fma_generic};
}

// ---- int8: u8 x s8 multiply-adds into i32, as ggml's quantized dot products do.

#if MOONDREAM_X86
__attribute__((target("avx512f,avx512bw,avx512vnni"))) int32_t int8_vnni512(int64_t n, int32_t s) {
    __m512i acc[kAccumulators];
    for (int j = 0; j < kAccumulators; ++j) acc[j] = _mm512_set1_epi32(s + j);
    const __m512i a = _mm512_set1_epi8(3);
    const __m512i b = _mm512_set1_epi8(-2);
    for (int64_t it = 0; it < n; ++it) {
        for (int j = 0; j < kAccumulators; ++j) acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
        // An empty asm that "reads and writes" the accumulators keeps integer sums from being folded.
        for (int j = 0; j < kAccumulators; j += 4) __asm__ volatile("" : "+v"(acc[j]), "+v"(acc[j + 1]), "+v"(acc[j + 2]), "+v"(acc[j + 3]));
    }
    int32_t lanes[16];
    int32_t sum = 0;
    for (int j = 0; j < kAccumulators; ++j) {
        _mm512_storeu_si512(lanes, acc[j]);
        for (int32_t v : lanes) sum += v;
    }
    return sum;
}

// Without VNNI, ggml multiplies with maddubs (u8 x s8 -> i16 pairs) and widens with madd.
__attribute__((target("avx2"))) int32_t int8_avx2(int64_t n, int32_t s) {
    __m256i acc[kAccumulators];
    for (int j = 0; j < kAccumulators; ++j) acc[j] = _mm256_set1_epi32(s + j);
    const __m256i a = _mm256_set1_epi8(3);
    const __m256i b = _mm256_set1_epi8(-2);
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t it = 0; it < n; ++it) {
        for (int j = 0; j < kAccumulators; ++j) {
            acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones));
        }
        for (int j = 0; j < kAccumulators; j += 4) __asm__ volatile("" : "+x"(acc[j]), "+x"(acc[j + 1]), "+x"(acc[j + 2]), "+x"(acc[j + 3]));
    }
    int32_t lanes[8];
    int32_t sum = 0;
    for (int j = 0; j < kAccumulators; ++j) {
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(lanes), acc[j]);
        for (int32_t v : lanes) sum += v;
    }
    return sum;
}
#endif

struct Int8Kernel {
    const char * isa;
    int macs_per_step;  // multiply-adds per accumulator update
    int32_t (*run)(int64_t, int32_t);
};

Int8Kernel pick_int8() {
#if MOONDREAM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) return {"AVX-512 VNNI", 64, int8_vnni512};
    if (__builtin_cpu_supports("avx2")) return {"AVX2 maddubs", 32, int8_avx2};
#endif
    return {"none", 0, nullptr};
}

// ---- read bandwidth: each thread sums its own slice of a buffer far larger than any cache.

#if MOONDREAM_X86
__attribute__((target("avx2"))) uint64_t read_slice_avx2(const uint8_t * p, size_t bytes) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 128 <= bytes; i += 128) {
        a0 = _mm256_xor_si256(a0, _mm256_load_si256(reinterpret_cast<const __m256i *>(p + i)));
        a1 = _mm256_xor_si256(a1, _mm256_load_si256(reinterpret_cast<const __m256i *>(p + i + 32)));
        a2 = _mm256_xor_si256(a2, _mm256_load_si256(reinterpret_cast<const __m256i *>(p + i + 64)));
        a3 = _mm256_xor_si256(a3, _mm256_load_si256(reinterpret_cast<const __m256i *>(p + i + 96)));
    }
    const __m256i x = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    uint64_t lanes[4];
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(lanes), x);
    return lanes[0] ^ lanes[1] ^ lanes[2] ^ lanes[3];
}
#endif

uint64_t read_slice_generic(const uint8_t * p, size_t bytes) {
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t i = 0; i + 32 <= bytes; i += 32) {
        uint64_t w[4];
        std::memcpy(w, p + i, sizeof(w));
        a0 ^= w[0];
        a1 ^= w[1];
        a2 ^= w[2];
        a3 ^= w[3];
    }
    return a0 ^ a1 ^ a2 ^ a3;
}

uint64_t read_slice(const uint8_t * p, size_t bytes) {
#if MOONDREAM_X86
    if (__builtin_cpu_supports("avx2")) return read_slice_avx2(p, bytes);
#endif
    return read_slice_generic(p, bytes);
}

struct AlignedFree {
    void operator()(uint8_t * p) const { std::free(p); }
};

}  // namespace

Result<MachineProbe> probe_machine(int n_threads, size_t read_bytes) {
    if (n_threads < 1 || n_threads > 1024) return Error{ErrorCode::invalid_argument, "the probe needs 1 to 1024 threads"};
    if (read_bytes < (size_t(64) << 20)) return Error{ErrorCode::invalid_argument, "the read probe needs at least 64 MiB"};
    MachineProbe out;
    out.threads = n_threads;

    // Bandwidth: each thread first-touches its own slice (so pages land on its memory node), then
    // the best of 7 timed passes counts; the first pass also warms the TLB.
    const size_t slice = (read_bytes / size_t(n_threads)) / 4096 * 4096;
    std::unique_ptr<uint8_t, AlignedFree> buffer(static_cast<uint8_t *>(std::aligned_alloc(4096, slice * size_t(n_threads))));
    if (!buffer) return Error{ErrorCode::out_of_memory, "cannot allocate the read probe's buffer"};
    std::vector<uint64_t> sinks(static_cast<size_t>(n_threads));
    timed_parallel(n_threads, [&](int i) { std::memset(buffer.get() + size_t(i) * slice, i + 1, slice); });
    double best = 1e30;
    for (int pass = 0; pass < 7; ++pass) {
        best = std::min(best, timed_parallel(n_threads, [&](int i) { sinks[size_t(i)] ^= read_slice(buffer.get() + size_t(i) * slice, slice); }));
    }
    out.read_bytes_per_second = double(slice) * n_threads / best;
    buffer.reset();

    // fp32 FMA: about 0.1 s per pass at typical clocks; best of 5 (a shared host steals time).
    const FmaKernel fma = pick_fma();
    const int64_t fma_iterations = 2'000'000;
    std::vector<float> float_sinks(static_cast<size_t>(n_threads));
    best = 1e30;
    for (int pass = 0; pass < 5; ++pass) {
        best = std::min(best, timed_parallel(n_threads, [&](int i) { float_sinks[size_t(i)] += fma.run(fma_iterations, float(i + 1)); }));
    }
    out.fp32_flops_per_second = 2.0 * kAccumulators * fma.lanes * double(fma_iterations) * n_threads / best;
    out.fp32_isa = fma.isa;

    const Int8Kernel int8 = pick_int8();
    out.int8_isa = int8.isa;
    if (int8.run != nullptr) {
        const int64_t int8_iterations = 2'000'000;
        std::vector<int32_t> int_sinks(static_cast<size_t>(n_threads));
        best = 1e30;
        for (int pass = 0; pass < 5; ++pass) {
            best = std::min(best, timed_parallel(n_threads, [&](int i) { int_sinks[size_t(i)] += int8.run(int8_iterations, i); }));
        }
        out.int8_ops_per_second = 2.0 * kAccumulators * int8.macs_per_step * double(int8_iterations) * n_threads / best;
    }
    return out;
}

}  // namespace moondream
