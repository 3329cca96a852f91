#include "amx_matrix.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cpu_level.h"

#if defined(__x86_64__) && defined(__linux__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* locals.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#define MOONDREAM_AMX_MATRIX 1
#define MD_TARGET __attribute__((target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl")))
#endif

namespace moondream::amx {

namespace {

constexpr const char * kName = "amx_matrix";
constexpr const char * kDisableVariable = "MOONDREAM_DISABLE_AMX_MATRIX";

#if MOONDREAM_AMX_MATRIX

constexpr int kTileRows = 16;                                // activation rows per A tile, weight rows per B tile
constexpr int kBlock = 32;                                   // q8_0 and q4_0 block: one TDPBSSD's k
constexpr size_t kSignedBlockBytes = size_t(kTileRows) * kBlock;  // a B tile: 8 rows of 16 x 4 bytes
// Blocks ahead that a block's activation and weight lines are prefetched into L1: tile loads
// from L2 stalled the tile unit. 4 against none: 8-13% less time on prefill's shapes, three
// interleaved kernel_bench runs on one thread.
constexpr int64_t kPrefetchBlocks = 4;

// Linux hands a process the AMX tile state only when asked (ARCH_REQ_XCOMP_PERM for
// XFEATURE_XTILEDATA); without it the first tile instruction is a SIGILL.
constexpr long kArchReqXcompPerm = 0x1023;
constexpr long kXfeatureXtiledata = 18;

struct CpuFacts {
    bool has = false;
    bool granted = false;
};

CpuFacts probe_cpu() {
    CpuFacts facts;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return facts;
    const bool amx_tile = (edx >> 24) & 1;
    const bool amx_int8 = (edx >> 25) & 1;
    __builtin_cpu_init();
    facts.has = amx_tile && amx_int8 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512vl");
    if (facts.has) facts.granted = syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
    return facts;
}

// The tile shapes, palette 1: tiles 0-3 the 16 x 16 int32 sums (2 activation tiles x 2 weight
// tiles), 4-5 the activations (16 rows x 32 bytes), 6-7 the weights (8 rows of 16 x 4 bytes).
struct alignas(64) TileConfig {
    uint8_t palette = 1;
    uint8_t start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t bytes_per_row[16] = {};
    uint8_t rows[16] = {};
};

// Our tile shapes for the length of a kernel call, and the thread's own configuration back after
// it. Another AMX user in the process (ggml's AMX matmul in node-llama-cpp, say) may run on the
// same thread (the calling thread computes a graph's first share: a libuv worker here and there)
// and configure its tiles once per thread, for good: had we released the tiles, its next
// TILEZERO would fault (SIGILL), and left ours, it would multiply in our shapes.
class TileScope {
public:
    MD_TARGET explicit TileScope(const TileConfig & ours) {
        _tile_storeconfig(&saved_);
        __asm__ volatile("" ::: "memory");  // the compiler does not see STTILECFG write `saved_`
        _tile_loadconfig(&ours);
    }
    MD_TARGET ~TileScope() {
        if (saved_.palette != 0) {
            _tile_loadconfig(&saved_);
        } else {
            _tile_release();  // the tile state is 8 KiB that every context switch would otherwise save
        }
    }
    TileScope(const TileScope &) = delete;
    TileScope & operator=(const TileScope &) = delete;

private:
    TileConfig saved_;
};

TileConfig make_config() {
    TileConfig config;
    for (int t = 0; t < 4; ++t) config.bytes_per_row[t] = 64, config.rows[t] = kTileRows;
    for (int t = 4; t < 6; ++t) config.bytes_per_row[t] = kBlock, config.rows[t] = kTileRows;
    for (int t = 6; t < 8; ++t) config.bytes_per_row[t] = 64, config.rows[t] = kBlock / 4;
    return config;
}

// VnniMatrix's unsigned values -> the signed ones TDPBSSD takes, in B-tile order (group g of a
// block, 16 rows x 4 k, at row g). q4_0's packed register p holds group p in its low nibbles and
// group p + 4 in its high ones.
MD_TARGET void make_signed(const uint8_t * values, int64_t nb, bool q4, int8_t * out) {
    if (q4) {
        const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
        const __m512i eight = _mm512_set1_epi8(8);
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t * src = values + size_t(b) * 256;
            int8_t * dst = out + size_t(b) * kSignedBlockBytes;
            for (int p = 0; p < 4; ++p) {
                const __m512i packed = _mm512_loadu_si512(src + 64 * p);
                _mm512_store_si512(dst + 64 * p, _mm512_sub_epi8(_mm512_and_si512(packed, low_nibbles), eight));
                _mm512_store_si512(dst + 64 * (p + 4), _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(packed, 4), low_nibbles), eight));
            }
        }
    } else {
        const __m512i flip = _mm512_set1_epi8(char(0x80));
        for (int64_t b = 0; b < nb; ++b) {
            for (int g = 0; g < 8; ++g) {
                const size_t at = size_t(b) * kSignedBlockBytes + 64 * size_t(g);
                _mm512_store_si512(out + at, _mm512_xor_si512(_mm512_loadu_si512(values + at), flip));
            }
        }
    }
}

// Block b's sums (4 tiles of 16 x 16 int32, as stored) scaled into acc [32][32] f32 in the VNNI
// kernel's order and rounding: sum x (d_w x d_a), fused into the running sum, which the first
// block starts from zero (without a pass that zeroes acc).
template <bool First>
MD_TARGET __attribute__((always_inline)) inline void add_block(const int32_t (*sums)[kTileRows][kTileRows], const uint16_t * const scales[2],
                                                                int64_t b, const uint8_t * group0, const uint8_t * group1, float * acc) {
    const __m512 dw[2] = {_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(scales[0] + 16 * b))),
                          _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(scales[1] + 16 * b)))};
    for (int s = 0; s < 2; ++s) {
        const auto * da = reinterpret_cast<const float *>((s == 0 ? group0 : group1) + size_t(b) * kGroupBlockBytes + kGroupValueBytes);
        for (int r = 0; r < kTileRows; ++r) {
            const __m512 d_a = _mm512_set1_ps(da[r]);
            for (int h = 0; h < 2; ++h) {
                float * out = acc + size_t(s * kTileRows + r) * 32 + 16 * h;
                const __m512 total = _mm512_cvtepi32_ps(_mm512_load_si512(sums[2 * s + h][r]));
                const __m512 running = First ? _mm512_setzero_ps() : _mm512_load_ps(out);
                _mm512_store_ps(out, _mm512_fmadd_ps(total, _mm512_mul_ps(dw[h], d_a), running));
            }
        }
    }
}

// Two groups of activation rows x the pair's 32 weight rows, every block, into acc [32][32] f32.
// A block's sums leave the tiles through memory and are read back one block later: read at
// once, the loads waited for the tile stores, and the tile unit sat idle while the vector unit
// scaled. The first block's scaled sums start acc (nothing zeroes it).
MD_TARGET void multiply_rows(const int8_t * w0, const int8_t * w1, const uint16_t * const scales[2], int64_t nb, const uint8_t * group0,
                             float * acc) {
    alignas(64) int32_t sums[2][4][kTileRows][kTileRows];
    const uint8_t * group1 = group0 + size_t(nb) * kGroupBlockBytes;
    for (int64_t b = 0; b < nb; ++b) {
        if (b + kPrefetchBlocks < nb) {
            for (int line = 0; line < 9; ++line) {
                _mm_prefetch(reinterpret_cast<const char *>(group0 + size_t(b + kPrefetchBlocks) * kGroupBlockBytes) + 64 * line, _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char *>(group1 + size_t(b + kPrefetchBlocks) * kGroupBlockBytes) + 64 * line, _MM_HINT_T0);
            }
            for (int line = 0; line < 8; ++line) {
                _mm_prefetch(reinterpret_cast<const char *>(w0 + size_t(b + kPrefetchBlocks) * kSignedBlockBytes) + 64 * line, _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char *>(w1 + size_t(b + kPrefetchBlocks) * kSignedBlockBytes) + 64 * line, _MM_HINT_T0);
            }
        }
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
        _tile_loadd(4, group0 + size_t(b) * kGroupBlockBytes, kBlock);
        _tile_loadd(5, group1 + size_t(b) * kGroupBlockBytes, kBlock);
        _tile_loadd(6, w0 + size_t(b) * kSignedBlockBytes, 64);
        _tile_loadd(7, w1 + size_t(b) * kSignedBlockBytes, 64);
        _tile_dpbssd(0, 4, 6);
        _tile_dpbssd(1, 4, 7);
        _tile_dpbssd(2, 5, 6);
        _tile_dpbssd(3, 5, 7);
        int32_t (*out)[kTileRows][kTileRows] = sums[b & 1];
        _tile_stored(0, out[0], 64);
        _tile_stored(1, out[1], 64);
        _tile_stored(2, out[2], 64);
        _tile_stored(3, out[3], 64);
        if (b == 1) add_block<true>(sums[0], scales, 0, group0, group1, acc);
        if (b > 1) add_block<false>(sums[(b - 1) & 1], scales, b - 1, group0, group1, acc);
    }
    if (nb == 1) {
        add_block<true>(sums[0], scales, 0, group0, group1, acc);
    } else {
        add_block<false>(sums[(nb - 1) & 1], scales, nb - 1, group0, group1, acc);
    }
}

MD_TARGET void multiply_pair_amx(const TilePair & w, const uint8_t * act, int64_t rows, const float * bias, float * out, size_t ldc) {
    thread_local std::vector<int8_t> signed_values;
    const size_t pair_bytes = 2 * size_t(w.nb) * kSignedBlockBytes;
    signed_values.resize(pair_bytes + 64);
    auto * w0 = reinterpret_cast<int8_t *>((reinterpret_cast<uintptr_t>(signed_values.data()) + 63) & ~uintptr_t(63));
    int8_t * w1 = w0 + pair_bytes / 2;
    make_signed(w.values[0], w.nb, w.q4, w0);
    make_signed(w.values[1], w.nb, w.q4, w1);

    // Static: GCC 12 does not see LDTILECFG read its operand, and drops the stores that fill a
    // local configuration (the tiles then fault as unconfigured).
    static const TileConfig config = make_config();
    const TileScope tiles(config);
    alignas(64) float acc[2 * kTileRows][32];
    const __m512 bias0 = bias != nullptr ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
    const __m512 bias1 = bias != nullptr ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps();
    const size_t group_bytes = size_t(w.nb) * kGroupBlockBytes;
    for (int64_t r0 = 0; r0 < rows; r0 += 2 * kTileRows) {
        // The groups are padded to an even count with zero rows: the second may be all padding.
        multiply_rows(w0, w1, w.scales, w.nb, act + size_t(r0 / kGroupRows) * group_bytes, &acc[0][0]);
        const int64_t here = std::min<int64_t>(2 * kTileRows, rows - r0);
        for (int64_t j = 0; j < here; ++j) {
            float * dst = out + size_t(r0 + j) * ldc;
            _mm512_storeu_ps(dst, _mm512_add_ps(_mm512_load_ps(acc[j]), bias0));
            _mm512_storeu_ps(dst + 16, _mm512_add_ps(_mm512_load_ps(acc[j] + 16), bias1));
        }
    }
}

TileConfig make_peak_config() {
    TileConfig config;
    for (int t = 0; t < 8; ++t) config.bytes_per_row[t] = 64, config.rows[t] = kTileRows;
    return config;
}

MD_TARGET void peak_loop_amx(int64_t iterations) {
    static const TileConfig config = make_peak_config();  // static: see multiply_pair_amx
    const TileScope tiles(config);
    alignas(64) static const int8_t ones[kTileRows][64] = {};
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_loadd(4, ones, 64);
    _tile_loadd(5, ones, 64);
    _tile_loadd(6, ones, 64);
    _tile_loadd(7, ones, 64);
    for (int64_t i = 0; i < iterations; ++i) {
        _tile_dpbssd(0, 4, 6);
        _tile_dpbssd(1, 4, 7);
        _tile_dpbssd(2, 5, 6);
        _tile_dpbssd(3, 5, 7);
    }
}

#endif  // MOONDREAM_AMX_MATRIX

KernelReport choice(bool read_disable) {
    KernelReport report;
    report.name = kName;
#if MOONDREAM_AMX_MATRIX
    static const CpuFacts facts = probe_cpu();
    const Result<CpuCap> & cap = cpu_cap();
    if (!facts.has) {
        report.reason = "this CPU lacks one of AMX-TILE, AMX-INT8 and AVX-512 F, BW and VL, so the VNNI kernel multiplies";
    } else if (!facts.granted) {
        report.reason = "Linux did not grant this process the AMX tile state (arch_prctl), so the VNNI kernel multiplies";
    } else if (!cap.ok()) {
        report.reason = cap.error().message;
    } else if (!cap.value().allows(CpuLevel::amx)) {
        report.reason = std::string("MOONDREAM_CPU_LEVEL=") + cpu_level_name(*cap.value().level) + " is below amx, so the VNNI kernel multiplies";
    } else if (read_disable && std::getenv(kDisableVariable) != nullptr) {
        report.reason = std::string(kDisableVariable) + " is set, so the VNNI kernel multiplies";
    } else {
        report.chosen = true;
        report.reason = "this CPU has AMX-INT8: the q8_0 and q4_0 prefill products of a model loaded with vnniKernel (the default) use it";
    }
#else
    (void)read_disable;
    report.reason = "built only for x86-64 Linux";
#endif
    return report;
}

}  // namespace

bool available() {
    static const bool chosen = choice(false).chosen;
    return chosen;
}

KernelReport cpu_choice() { return choice(true); }

void peak_loop(int64_t iterations) {
#if MOONDREAM_AMX_MATRIX
    if (available()) peak_loop_amx(iterations);
#else
    (void)iterations;
#endif
}

void multiply_pair(const TilePair & w, const uint8_t * act, int64_t rows, const float * bias, float * out, size_t ldc) {
#if MOONDREAM_AMX_MATRIX
    multiply_pair_amx(w, act, rows, bias, out, ldc);
#else
    (void)w, (void)act, (void)rows, (void)bias, (void)out, (void)ldc;
#endif
}

}  // namespace moondream::amx
