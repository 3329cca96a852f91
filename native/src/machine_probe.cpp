// This machine's limits, measured rather than assumed: how fast `n_threads` threads stream memory,
// and how many fp32 FMAs, int8 multiply-adds and (where the CPU has them) bf16 dot products they retire, each with the widest instructions the
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

#include "amx_matrix.h"
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

// The best wall time of `passes` runs of `work` on n threads: a shared host steals time, and the
// fastest pass is the closest to what the hardware does.
template <typename Work>
double best_of(int passes, int n_threads, Work work) {
    double best = 1e30;
    for (int pass = 0; pass < passes; ++pass) best = std::min(best, timed_parallel(n_threads, work));
    return best;
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
// The x86 peaks are measured in inline assembly on fixed registers. Written in C++, GCC kept the
// accumulator arrays on the stack (a load and a store around every multiply-add), so the "peak"
// was store-forwarding latency: a third of the real int8 rate on a Sapphire Rapids core.
// Operands are zero: no denormals, and integer units take no data-dependent time.
#define MOONDREAM_REPEAT16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define MOONDREAM_REPEAT12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define MOONDREAM_ZERO_ZMM(i) "vpxord %%zmm" #i ", %%zmm" #i ", %%zmm" #i "\n"
#define MOONDREAM_ZERO_YMM(i) "vpxor %%ymm" #i ", %%ymm" #i ", %%ymm" #i "\n"
#define MOONDREAM_FMA_ZMM(i) "vfmadd231ps %%zmm16, %%zmm17, %%zmm" #i "\n"
#define MOONDREAM_FMA_YMM(i) "vfmadd231ps %%ymm12, %%ymm13, %%ymm" #i "\n"
#define MOONDREAM_VNNI_ZMM(i) "vpdpbusd %%zmm16, %%zmm17, %%zmm" #i "\n"
#define MOONDREAM_BF16_ZMM(i) "vdpbf16ps %%zmm16, %%zmm17, %%zmm" #i "\n"
#define MOONDREAM_ZMM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", \
    "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17"
#define MOONDREAM_YMM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", \
    "xmm12", "xmm13", "xmm14", "xmm15"

// 16 chains of 512-bit FMAs (16 lanes, 32 flops each): enough to cover 4-cycle latency on 2 ports.
__attribute__((target("avx512f"))) float fma_avx512(int64_t n, float) {
    if (n <= 0) return 0;
    __asm__ volatile(MOONDREAM_REPEAT16(MOONDREAM_ZERO_ZMM) MOONDREAM_ZERO_ZMM(16) MOONDREAM_ZERO_ZMM(17)
                     "1:\n" MOONDREAM_REPEAT16(MOONDREAM_FMA_ZMM) "dec %0\n"
                     "jnz 1b\n"
                     "vzeroupper\n"
                     : "+r"(n)
                     :
                     : "cc", MOONDREAM_ZMM_CLOBBERS);
    return 0;
}

// 12 chains of 256-bit FMAs (8 lanes, 16 flops each).
__attribute__((target("avx2,fma"))) float fma_avx2(int64_t n, float) {
    if (n <= 0) return 0;
    __asm__ volatile(MOONDREAM_REPEAT12(MOONDREAM_ZERO_YMM) MOONDREAM_ZERO_YMM(12) MOONDREAM_ZERO_YMM(13)
                     "1:\n" MOONDREAM_REPEAT12(MOONDREAM_FMA_YMM) "dec %0\n"
                     "jnz 1b\n"
                     "vzeroupper\n"
                     : "+r"(n)
                     :
                     : "cc", MOONDREAM_YMM_CLOBBERS);
    return 0;
}
#endif
float fma_generic(int64_t n, float s) { return fma_loop<Float4>(n, s); }

struct FmaKernel {
    const char * isa;
    int lanes;
    int accumulators;  // independent FMAs per iteration
    float (*run)(int64_t, float);
};

FmaKernel pick_fma() {
#if MOONDREAM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return {"AVX-512 FMA", 16, 16, fma_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {"AVX2 FMA", 8, 12, fma_avx2};
#endif
    return {"128-bit SIMD", 4, kAccumulators, fma_generic};
}

// ---- int8: u8 x s8 multiply-adds into i32, as ggml's quantized dot products do.

#if MOONDREAM_X86
// 16 chains of 512-bit VPDPBUSD (64 multiply-adds each).
__attribute__((target("avx512f,avx512bw,avx512vnni"))) int32_t int8_vnni512(int64_t n, int32_t) {
    if (n <= 0) return 0;
    __asm__ volatile(MOONDREAM_REPEAT16(MOONDREAM_ZERO_ZMM) MOONDREAM_ZERO_ZMM(16) MOONDREAM_ZERO_ZMM(17)
                     "1:\n" MOONDREAM_REPEAT16(MOONDREAM_VNNI_ZMM) "dec %0\n"
                     "jnz 1b\n"
                     "vzeroupper\n"
                     : "+r"(n)
                     :
                     : "cc", MOONDREAM_ZMM_CLOBBERS);
    return 0;
}

// Without VNNI, ggml multiplies with maddubs (u8 x s8 -> i16 pairs), widens with madd and adds:
// 10 chains of that triple (32 multiply-adds each), with two temporaries the renamer spreads.
__attribute__((target("avx2"))) int32_t int8_avx2(int64_t n, int32_t) {
    if (n <= 0) return 0;
#define MOONDREAM_INT8_AVX2_STEP(i, t) "vpmaddubsw %%ymm12, %%ymm13, %%ymm" #t "\n" \
                                        "vpmaddwd %%ymm14, %%ymm" #t ", %%ymm" #t "\n" \
                                        "vpaddd %%ymm" #t ", %%ymm" #i ", %%ymm" #i "\n"
    __asm__ volatile(MOONDREAM_REPEAT12(MOONDREAM_ZERO_YMM) MOONDREAM_ZERO_YMM(12) MOONDREAM_ZERO_YMM(13) MOONDREAM_ZERO_YMM(14)
                     "1:\n"
                     MOONDREAM_INT8_AVX2_STEP(0, 10) MOONDREAM_INT8_AVX2_STEP(1, 11) MOONDREAM_INT8_AVX2_STEP(2, 10)
                     MOONDREAM_INT8_AVX2_STEP(3, 11) MOONDREAM_INT8_AVX2_STEP(4, 10) MOONDREAM_INT8_AVX2_STEP(5, 11)
                     MOONDREAM_INT8_AVX2_STEP(6, 10) MOONDREAM_INT8_AVX2_STEP(7, 11) MOONDREAM_INT8_AVX2_STEP(8, 10)
                     MOONDREAM_INT8_AVX2_STEP(9, 11)
                     "dec %0\n"
                     "jnz 1b\n"
                     "vzeroupper\n"
                     : "+r"(n)
                     :
                     : "cc", MOONDREAM_YMM_CLOBBERS);
#undef MOONDREAM_INT8_AVX2_STEP
    return 0;
}
#endif

#if MOONDREAM_X86
// AMX tiles, where our q8_0 and q4_0 prefill product runs on them (amx_matrix.h).
int32_t int8_amx(int64_t n, int32_t) {
    amx::peak_loop(n);
    return 0;
}
#endif

#if MOONDREAM_X86
// 16 chains of 512-bit VDPBF16PS (16 lanes, two bf16 products and their sum each: 64 flops), as the
// bf16 vision matmuls run (avx512_bf16_gemm.h).
__attribute__((target("avx512f,avx512bf16"))) float bf16_avx512(int64_t n) {
    if (n <= 0) return 0;
    __asm__ volatile(MOONDREAM_REPEAT16(MOONDREAM_ZERO_ZMM) MOONDREAM_ZERO_ZMM(16) MOONDREAM_ZERO_ZMM(17)
                     "1:\n" MOONDREAM_REPEAT16(MOONDREAM_BF16_ZMM) "dec %0\n"
                     "jnz 1b\n"
                     "vzeroupper\n"
                     : "+r"(n)
                     :
                     : "cc", MOONDREAM_ZMM_CLOBBERS);
    return 0;
}
#endif

#if MOONDREAM_X86
// ---- int8 with q8_0's per-block float work: the instruction mix of our prefill kernel's inner
// block (vnni_matrix.cpp, pair_kernel), with its data in L1. Per block of 32 k, 12 int32 sums
// (6 activation rows x 2 tiles of 16 outputs) start from a broadcast, take 8 VPDPBUSD each (a
// weight register times a broadcast activation dword), and are then converted and multiply-added
// into f32 accumulators with the block's scale product (cvt, mul, fma). Those three ops per 8
// VPDPBUSD share the vector pipes, so no q8_0/q4_0 kernel of this form passes this rate: it is
// the roofline a prefill's matmuls are judged against beside the bare VPDPBUSD peak.
// Registers: zmm0-11 sums, zmm12-13 weights, zmm16 the scale product, zmm18-19 the tiles' scales,
// zmm20-31 accumulators. All data is zero (no denormals; integer units take no data-dependent time).
#define MOONDREAM_BLOCK_START(j, j2) "vpbroadcastd 192+" #j "*4(%[a]), %%zmm" #j "\n" "vpbroadcastd 192+" #j "*4(%[a]), %%zmm" #j2 "\n"
#define MOONDREAM_BLOCK_DOT(g, j, j2) "vpdpbusd " #j "*32+" #g "*4(%[a])%{1to16%}, %%zmm12, %%zmm" #j "\n" \
                                      "vpdpbusd " #j "*32+" #g "*4(%[a])%{1to16%}, %%zmm13, %%zmm" #j2 "\n"
#define MOONDREAM_BLOCK_GROUP(g) "vmovdqu64 " #g "*64(%[w]), %%zmm12\n" "vmovdqu64 512+" #g "*64(%[w]), %%zmm13\n" \
    MOONDREAM_BLOCK_DOT(g, 0, 6) MOONDREAM_BLOCK_DOT(g, 1, 7) MOONDREAM_BLOCK_DOT(g, 2, 8) \
    MOONDREAM_BLOCK_DOT(g, 3, 9) MOONDREAM_BLOCK_DOT(g, 4, 10) MOONDREAM_BLOCK_DOT(g, 5, 11)
#define MOONDREAM_BLOCK_SCALE(sum, j, dw, acc) "vcvtdq2ps %%zmm" #sum ", %%zmm" #sum "\n" \
                                               "vmulps " #j "*4(%[d])%{1to16%}, %%zmm" #dw ", %%zmm16\n" \
                                               "vfmadd231ps %%zmm16, %%zmm" #sum ", %%zmm" #acc "\n"
__attribute__((target("avx512f,avx512bw,avx512vnni"))) int32_t int8_block_vnni512(int64_t n, int32_t) {
    if (n <= 0) return 0;
    alignas(64) const uint8_t weights[1024] = {};         // 2 tiles x 8 groups x 64 bytes
    alignas(64) const uint8_t activations[256] = {};     // 6 rows x 32 values, then 6 starts
    alignas(64) const float scales[16] = {};
    __asm__ volatile(MOONDREAM_REPEAT16(MOONDREAM_ZERO_ZMM)
                     "vpxord %%zmm18, %%zmm18, %%zmm18\n" "vpxord %%zmm19, %%zmm19, %%zmm19\n"
                     "vpxord %%zmm20, %%zmm20, %%zmm20\n" "vpxord %%zmm21, %%zmm21, %%zmm21\n"
                     "vpxord %%zmm22, %%zmm22, %%zmm22\n" "vpxord %%zmm23, %%zmm23, %%zmm23\n"
                     "vpxord %%zmm24, %%zmm24, %%zmm24\n" "vpxord %%zmm25, %%zmm25, %%zmm25\n"
                     "vpxord %%zmm26, %%zmm26, %%zmm26\n" "vpxord %%zmm27, %%zmm27, %%zmm27\n"
                     "vpxord %%zmm28, %%zmm28, %%zmm28\n" "vpxord %%zmm29, %%zmm29, %%zmm29\n"
                     "vpxord %%zmm30, %%zmm30, %%zmm30\n" "vpxord %%zmm31, %%zmm31, %%zmm31\n"
                     "1:\n"
                     MOONDREAM_BLOCK_START(0, 6) MOONDREAM_BLOCK_START(1, 7) MOONDREAM_BLOCK_START(2, 8)
                     MOONDREAM_BLOCK_START(3, 9) MOONDREAM_BLOCK_START(4, 10) MOONDREAM_BLOCK_START(5, 11)
                     MOONDREAM_BLOCK_GROUP(0) MOONDREAM_BLOCK_GROUP(1) MOONDREAM_BLOCK_GROUP(2) MOONDREAM_BLOCK_GROUP(3)
                     MOONDREAM_BLOCK_GROUP(4) MOONDREAM_BLOCK_GROUP(5) MOONDREAM_BLOCK_GROUP(6) MOONDREAM_BLOCK_GROUP(7)
                     MOONDREAM_BLOCK_SCALE(0, 0, 18, 20) MOONDREAM_BLOCK_SCALE(1, 1, 18, 21) MOONDREAM_BLOCK_SCALE(2, 2, 18, 22)
                     MOONDREAM_BLOCK_SCALE(3, 3, 18, 23) MOONDREAM_BLOCK_SCALE(4, 4, 18, 24) MOONDREAM_BLOCK_SCALE(5, 5, 18, 25)
                     MOONDREAM_BLOCK_SCALE(6, 0, 19, 26) MOONDREAM_BLOCK_SCALE(7, 1, 19, 27) MOONDREAM_BLOCK_SCALE(8, 2, 19, 28)
                     MOONDREAM_BLOCK_SCALE(9, 3, 19, 29) MOONDREAM_BLOCK_SCALE(10, 4, 19, 30) MOONDREAM_BLOCK_SCALE(11, 5, 19, 31)
                     "dec %[n]\n"
                     "jnz 1b\n"
                     "vzeroupper\n"
                     : [n] "+r"(n)
                     : [w] "r"(weights), [a] "r"(activations), [d] "r"(scales)
                     : "cc", "memory", MOONDREAM_ZMM_CLOBBERS, "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25",
                       "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
    return 0;
}
#undef MOONDREAM_BLOCK_START
#undef MOONDREAM_BLOCK_DOT
#undef MOONDREAM_BLOCK_GROUP
#undef MOONDREAM_BLOCK_SCALE
#endif

struct Int8Kernel {
    const char * isa;
    int macs_per_step;  // multiply-adds per accumulator update
    int accumulators;   // accumulator updates per iteration
    int32_t (*run)(int64_t, int32_t);
    int64_t iterations = 12'000'000;  // about 50 ms per pass at typical clocks
};

Int8Kernel pick_int8() {
#if MOONDREAM_X86
    if (amx::cpu_choice().chosen) return {"AMX-INT8 tiles", 16 * 16 * 64, 4, int8_amx, 1'000'000};
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) return {"AVX-512 VNNI", 64, 16, int8_vnni512};
    if (__builtin_cpu_supports("avx2")) return {"AVX2 maddubs", 32, 10, int8_avx2};
#endif
    return {"none", 0, 0, nullptr};
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
    const double read_s = best_of(7, n_threads, [&](int i) { sinks[size_t(i)] ^= read_slice(buffer.get() + size_t(i) * slice, slice); });
    out.read_bytes_per_second = double(slice) * n_threads / read_s;
    buffer.reset();

    // fp32 FMA: about 50 ms per pass at typical clocks; best of 5 (a shared host steals time).
    const FmaKernel fma = pick_fma();
    const int64_t fma_iterations = 12'000'000;
    std::vector<float> float_sinks(static_cast<size_t>(n_threads));
    const double fma_s = best_of(5, n_threads, [&](int i) { float_sinks[size_t(i)] += fma.run(fma_iterations, float(i + 1)); });
    out.fp32_flops_per_second = 2.0 * fma.accumulators * fma.lanes * double(fma_iterations) * n_threads / fma_s;
    out.fp32_isa = fma.isa;

    const Int8Kernel int8 = pick_int8();
    out.int8_isa = int8.isa;
    if (int8.run != nullptr) {
        const int64_t int8_iterations = int8.iterations;
        std::vector<int32_t> int_sinks(static_cast<size_t>(n_threads));
        const double int8_s = best_of(5, n_threads, [&](int i) { int_sinks[size_t(i)] += int8.run(int8_iterations, i); });
        out.int8_ops_per_second = 2.0 * int8.accumulators * int8.macs_per_step * double(int8_iterations) * n_threads / int8_s;
    }
#if MOONDREAM_X86
    // Only where the prefill runs the VNNI tile kernels (not AMX, not AVX2): 96 VPDPBUSD per block.
    if (int8.run == int8_vnni512) {
        const int64_t block_iterations = 1'500'000;  // about 50 ms per pass, as the other loops
        std::vector<int32_t> block_sinks(static_cast<size_t>(n_threads));
        const double block_s = best_of(5, n_threads, [&](int i) { block_sinks[size_t(i)] += int8_block_vnni512(block_iterations, i); });
        out.int8_block_ops_per_second = 2.0 * 96 * 64 * double(block_iterations) * n_threads / block_s;
    }
#endif

#if MOONDREAM_X86
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16")) {
        const int64_t bf16_iterations = 12'000'000;
        std::vector<float> bf16_sinks(static_cast<size_t>(n_threads));
        const double bf16_s = best_of(5, n_threads, [&](int i) { bf16_sinks[size_t(i)] += bf16_avx512(bf16_iterations); });
        out.bf16_flops_per_second = 2.0 * 16 * 32 * double(bf16_iterations) * n_threads / bf16_s;
    }
#endif
    return out;
}

}  // namespace moondream
