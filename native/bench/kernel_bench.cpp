// Kernel micro-benchmarks, A/B in one process: each case times ggml's own op and ours on the same
// operands, alternating, and prints the medians, the achieved rate and its fraction of the machine
// probe's peak measured in the same process (a shared machine moves absolute figures; the ratio
// between alternating runs holds). Built with -DMOONDREAM_KERNEL_BENCH=ON (scripts/kernel-bench.sh).
//   kernel_bench [threads] [repetitions] [case...]     cases: f16 and bf16 (vision matmuls), int8 (prefill
//   matmuls, q4_0 and q8_0), matvec (decode), attention, decode_attention, prefill_attention, erf
#include <algorithm>
#include <chrono>
#include <ctime>
#include <immintrin.h>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <memory>
#include <vector>

#include "ggml-cpp.h"
#include "ggml-cpu.h"
#include "../src/decode_attention.h"
#include "../src/f16_matrix.h"
#include "../src/memory_pages.h"
#include "../src/prefill_attention.h"
#include "../src/vnni_matrix.h"
#include "../src/vision_attention.h"
#include "../src/avx512_math.h"
#include "moondream.h"
#include "moondream_tools.h"

using namespace moondream;

namespace {

using Clock = std::chrono::steady_clock;

float next_value(uint64_t & state) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return float(state >> 40) / float(1u << 24) * 2.0f - 1.0f;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// On a machine shared with other work, wall time mostly measures the queue for the cores; the
// CPU time the process was given is what the kernel actually took (caches still shared).
struct Timing {
    double wall;
    double cpu;
};

struct Runner {
    ggml_threadpool * pool;
    int threads;
    std::vector<uint8_t> work;
    Timing run(ggml_cgraph * graph) {
        ggml_cplan plan = ggml_graph_plan(graph, threads, pool);
        work.resize(plan.work_size + 1);
        plan.work_data = work.data();
        const double cpu0 = process_cpu_seconds();
        const auto start = Clock::now();
        ggml_graph_compute(graph, &plan);
        return {std::chrono::duration<double>(Clock::now() - start).count(), process_cpu_seconds() - cpu0};
    }
};

// Medians of ggml's op and ours, run alternately (after one warm-up each), wall and CPU time.
struct AbTimes {
    double theirs_wall, ours_wall, theirs_cpu, ours_cpu;
};

AbTimes time_alternately(Runner & runner, int reps, ggml_context * ctx, ggml_tensor * theirs, ggml_tensor * ours) {
    ggml_cgraph * g_theirs = ggml_new_graph(ctx);
    ggml_build_forward_expand(g_theirs, theirs);
    ggml_cgraph * g_ours = ggml_new_graph(ctx);
    ggml_build_forward_expand(g_ours, ours);
    std::vector<double> t_theirs, t_ours, c_theirs, c_ours;
    runner.run(g_theirs);
    runner.run(g_ours);
    for (int r = 0; r < reps; ++r) {
        const Timing a = runner.run(g_theirs);
        const Timing o = runner.run(g_ours);
        t_theirs.push_back(a.wall);
        t_ours.push_back(o.wall);
        c_theirs.push_back(a.cpu);
        c_ours.push_back(o.cpu);
    }
    return {median(t_theirs), median(t_ours), median(c_theirs), median(c_ours)};
}

// out = x W^T for a q4_0 or q8_0 weight [k, n] and m f32 rows (prefill's shapes): ggml's mul_mat
// against VnniMatrix, both quantizing x to q8_0 blocks first, as prefill runs them.
// `roofline`: the probe's int8 rate with q8_0's per-block scaling (0 where it was not measured),
// the most a kernel of our tile kernel's form can reach.
void bench_int8(Runner & runner, int reps, ggml_type type, int64_t k, int64_t n, int64_t m, double peak, double core_peak, double roofline) {
    const size_t bytes = ggml_row_size(type, k) * size_t(n) + size_t(k) * size_t(m) * 4 * 2 + size_t(n) * size_t(m) * 4 * 3 + (64u << 20);
    ggml_context_ptr ctx(ggml_init({bytes, nullptr, false}));
    ggml_tensor * w = ggml_new_tensor_2d(ctx.get(), type, k, n);
    ggml_tensor * x = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, k, m);
    uint64_t state = uint64_t(k * 131 + n * 7 + m);
    std::vector<float> values(size_t(k) * size_t(n));
    for (float & v : values) v = next_value(state) * 0.05f;
    ggml_quantize_chunk(type, values.data(), w->data, 0, n, k, nullptr);
    for (int64_t i = 0; i < k * m; ++i) static_cast<float *>(x->data)[i] = next_value(state);
    auto matrix = VnniMatrix::pack(w);
    if (!matrix) {
        std::printf("int8 %s %lldx%lld m=%lld: the VNNI kernel is not supported here\n", ggml_type_name(type), (long long)k, (long long)n, (long long)m);
        return;
    }
    ggml_tensor * theirs = ggml_mul_mat(ctx.get(), w, x);
    ggml_tensor * ours = matrix->mul_mat(ctx.get(), x);
    const AbTimes times = time_alternately(runner, reps, ctx.get(), theirs, ours);
    // The two compute the same quantized product up to float summation order.
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < n * m; i += 97) {
        const double t = static_cast<const float *>(theirs->data)[i];
        scale = std::max(scale, std::fabs(t));
        worst = std::max(worst, std::fabs(double(static_cast<const float *>(ours->data)[i]) - t));
    }
    const double ops = 2.0 * double(k) * double(n) * double(m);
    const double a = times.theirs_wall, o = times.ours_wall;
    const double ca = times.theirs_cpu, co = times.ours_cpu;
    char at_roofline[48] = "";
    if (roofline > 0) std::snprintf(at_roofline, sizeof at_roofline, ", %.2f of the roofline", ops / o / roofline);
    std::printf("int8 %s k=%-5lld n=%-5lld m=%-4lld ggml %7.2f ms %.2f of peak (cpu: %.2f of core peak) | ours %7.2f ms %.2f of peak%s (cpu: %.2f), vs ggml %.1e | %.2fx wall, %.2fx cpu\n",
                ggml_type_name(type), (long long)k, (long long)n, (long long)m, a * 1e3, ops / a / peak, ops / ca / core_peak, o * 1e3, ops / o / peak, at_roofline,
                ops / co / core_peak, worst / scale, a / o, ca / co);
}

// out = x W^T + b for an f16 (or bf16) weight [k, n] and m f32 rows: ggml's mul_mat + add against
// F16Matrix (for bf16, the VDPBF16PS kernel where the CPU has it; `peak` is then its bf16 peak).
void bench_half(Runner & runner, int reps, ggml_type type, int64_t k, int64_t n, int64_t m, double peak, double core_peak) {
    const size_t bytes = size_t(k) * size_t(n) * 2 + size_t(k) * size_t(m) * 4 * 4 + size_t(n) * size_t(m) * 4 * 4 + (64u << 20);
    ggml_context_ptr ctx(ggml_init({bytes, nullptr, false}));
    ggml_tensor * w = ggml_new_tensor_2d(ctx.get(), type, k, n);
    ggml_tensor * x = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, k, m);
    ggml_tensor * b = ggml_new_tensor_1d(ctx.get(), GGML_TYPE_F32, n);
    uint64_t state = uint64_t(k * 131 + n * 7 + m);
    std::vector<float> weights(size_t(k) * size_t(n));
    for (float & v : weights) v = next_value(state) * 0.05f;
    ggml_quantize_chunk(type, weights.data(), w->data, 0, n, k, nullptr);
    ggml_get_type_traits(type)->to_float(w->data, weights.data(), k * n);  // the values the products use
    for (int64_t i = 0; i < k * m; ++i) static_cast<float *>(x->data)[i] = next_value(state);
    for (int64_t i = 0; i < n; ++i) static_cast<float *>(b->data)[i] = next_value(state);
    const char * name = ggml_type_name(type);
    auto matrix = F16Matrix::wrap(w);
    if (!matrix) {
        std::printf("%s %lldx%lld m=%lld: kernel not supported here\n", name, (long long)k, (long long)n, (long long)m);
        return;
    }
    ggml_tensor * theirs = ggml_add(ctx.get(), ggml_mul_mat(ctx.get(), w, x), b);
    ggml_tensor * ours = matrix->mul_mat(ctx.get(), x, b);
    const AbTimes times = time_alternately(runner, reps, ctx.get(), theirs, ours);
    // Accuracy against a double-precision product of the stored weights and the f32 rows, on a
    // sample of outputs (a bf16 kernel rounding the rows to bf16 shows here).
    double worst_ours = 0, worst_theirs = 0, scale = 0;
    for (int64_t s = 0; s < 4096; ++s) {
        const int64_t row = (s * 7919) % m;
        const int64_t col = (s * 104729) % n;
        double ref = static_cast<const float *>(b->data)[col];
        for (int64_t i = 0; i < k; ++i) ref += double(static_cast<const float *>(x->data)[row * k + i]) * double(weights[size_t(col * k + i)]);
        scale = std::max(scale, std::fabs(ref));
        worst_ours = std::max(worst_ours, std::fabs(double(static_cast<const float *>(ours->data)[row * n + col]) - ref));
        worst_theirs = std::max(worst_theirs, std::fabs(double(static_cast<const float *>(theirs->data)[row * n + col]) - ref));
    }
    const double flops = 2.0 * double(k) * double(n) * double(m);
    const double a = times.theirs_wall, o = times.ours_wall;
    const double ca = times.theirs_cpu, co = times.ours_cpu;
    std::printf("%s k=%-5lld n=%-5lld m=%-4lld ggml %7.2f ms %.2f of peak (cpu: %.2f of core peak), err %.1e | ours %7.2f ms %.2f of peak (cpu: %.2f), err %.1e | %.2fx wall, %.2fx cpu\n",
                name, (long long)k, (long long)n, (long long)m, a * 1e3, flops / a / peak, flops / ca / core_peak, worst_theirs / scale, o * 1e3, flops / o / peak,
                flops / co / core_peak, worst_ours / scale, a / o, ca / co);
}

// The vision tower's attention (16 heads of 72, 729 positions): ggml's permutes, mul_mats and
// softmax against vision_attention().
void bench_attention(Runner & runner, int reps, double core_peak) {
    const int64_t n = 729, heads = 16, d = 72, e = heads * d;
    ggml_context_ptr ctx(ggml_init({size_t(256) << 20, nullptr, false}));
    ggml_tensor * q = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, e, n);
    ggml_tensor * k = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, e, n);
    ggml_tensor * v = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, e, n);
    uint64_t state = 5;
    for (ggml_tensor * t : {q, k, v}) {
        for (int64_t i = 0; i < e * n; ++i) static_cast<float *>(t->data)[i] = next_value(state) * 2.0f;
    }
    const float scale = 1.0f / std::sqrt(float(d));
    ggml_tensor * q3 = ggml_permute(ctx.get(), ggml_reshape_3d(ctx.get(), q, d, heads, n), 0, 2, 1, 3);
    ggml_tensor * k3 = ggml_permute(ctx.get(), ggml_reshape_3d(ctx.get(), k, d, heads, n), 0, 2, 1, 3);
    ggml_tensor * v3 = ggml_cont(ctx.get(), ggml_permute(ctx.get(), ggml_reshape_3d(ctx.get(), v, d, heads, n), 1, 2, 0, 3));
    ggml_tensor * scores = ggml_soft_max_ext(ctx.get(), ggml_mul_mat(ctx.get(), k3, q3), nullptr, scale, 0.0f);
    ggml_tensor * theirs = ggml_cont_2d(ctx.get(), ggml_permute(ctx.get(), ggml_mul_mat(ctx.get(), v3, scores), 0, 2, 1, 3), e, n);
    ggml_tensor * ours = vision_attention(ctx.get(), q, k, v, int(heads), scale);
    const AbTimes times = time_alternately(runner, reps, ctx.get(), theirs, ours);
    double worst = 0, scale_ref = 0;
    for (int64_t i = 0; i < e * n; ++i) {
        worst = std::max(worst, std::fabs(double(static_cast<float *>(ours->data)[i]) - double(static_cast<float *>(theirs->data)[i])));
        scale_ref = std::max(scale_ref, std::fabs(double(static_cast<float *>(theirs->data)[i])));
    }
    const double flops = 4.0 * double(n) * double(n) * double(e);
    const double ca = times.theirs_cpu, co = times.ours_cpu;
    std::printf("vision attention 16x72, n=729: ggml %7.2f ms (cpu: %.2f of core peak) | ours %7.2f ms (cpu: %.2f) | %.2fx wall, %.2fx cpu; max diff %.1e of max |out|\n",
                times.theirs_wall * 1e3, flops / ca / core_peak, times.ours_wall * 1e3, flops / co / core_peak, times.theirs_wall / times.ours_wall, ca / co,
                worst / scale_ref);
}

// avx512::erf and gelu_erf against the C library's erf in double, over [-8, 8].
__attribute__((target("avx512f"))) void check_erf() {
    double worst_erf = 0, worst_gelu = 0, worst_gelu_rel = 0;
    float at = 0;
    for (int64_t i = 0; i < (int64_t(1) << 24); i += 16) {
        float xs[16], e[16], g[16];
        for (int j = 0; j < 16; ++j) xs[j] = -8.0f + 16.0f * float(i + j) / float(int64_t(1) << 24);
        _mm512_storeu_ps(e, moondream::avx512::erf(_mm512_loadu_ps(xs)));
        _mm512_storeu_ps(g, moondream::avx512::gelu_erf(_mm512_loadu_ps(xs)));
        for (int j = 0; j < 16; ++j) {
            const double x = xs[j];
            const double d = std::fabs(double(e[j]) - std::erf(x));
            if (d > worst_erf) {
                worst_erf = d;
                at = xs[j];
            }
            const double ref = 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
            worst_gelu = std::max(worst_gelu, std::fabs(double(g[j]) - ref));
            worst_gelu_rel = std::max(worst_gelu_rel, std::fabs(double(g[j]) - ref) / std::max(std::fabs(x), 1e-3));
        }
    }
    std::printf("erf: max abs error %.2e (at %g); gelu_erf: max abs error %.2e, max error / |x| %.2e\n", worst_erf, at, worst_gelu, worst_gelu_rel);
}

// Decode's matrix-vector products: `count` q4_0 or q8_0 weights of 2048 x 8192 (together well past
// the caches) times one row, through our VNNI kernel and through ggml's mul_mat, against a plain
// streaming read of the same number of bytes, alternating.
__attribute__((target("avx512f"))) uint64_t stream_read(const uint8_t * p, size_t bytes) {
    __m512i a = _mm512_setzero_si512(), b = a;
    for (size_t i = 0; i + 128 <= bytes; i += 128) {
        a = _mm512_xor_si512(a, _mm512_load_si512(p + i));
        b = _mm512_xor_si512(b, _mm512_load_si512(p + i + 64));
    }
    return uint64_t(_mm512_reduce_add_epi64(_mm512_xor_si512(a, b)));
}

// Medians of our graph, ggml's and a plain read of `bytes` (a huge-page buffer, one thread per
// half, as the kernels split their work), run alternately after one warm-up round.
struct ReadTimes {
    double ours, theirs, read;
};

ReadTimes time_against_read(Runner & runner, int reps, ggml_cgraph * g_ours, ggml_cgraph * g_theirs, size_t bytes) {
    AnonymousPages raw = map_anonymous_huge(bytes);
    uint8_t * data = raw.get();
    std::memset(data, 1, bytes);
    std::vector<double> t_ours, t_theirs, t_read;
    uint64_t sink = 0;
    for (int r = 0; r < reps + 1; ++r) {
        const Timing o = runner.run(g_ours);
        const Timing a = runner.run(g_theirs);
        const auto start = Clock::now();
        if (runner.threads > 1) {
            std::thread other([&] { sink ^= stream_read(data + bytes / 2, bytes / 2); });
            sink ^= stream_read(data, bytes / 2);
            other.join();
        } else {
            sink ^= stream_read(data, bytes);
        }
        const double read = std::chrono::duration<double>(Clock::now() - start).count();
        if (r == 0) continue;
        t_ours.push_back(o.wall);
        t_theirs.push_back(a.wall);
        t_read.push_back(read);
    }
    asm volatile("" : : "r"(sink) : "memory");  // the reads' result is used, so they stay
    return {median(t_ours), median(t_theirs), median(t_read)};
}

void bench_matvec(Runner & runner, int reps, ggml_type type, int count) {
    const int64_t k = 2048, n = 8192;
    const size_t weight_bytes = ggml_row_size(type, k) * size_t(n);
    ggml_context_ptr ctx(ggml_init({weight_bytes * size_t(count) + (64u << 20), nullptr, false}));
    std::vector<float> values(size_t(k) * size_t(n));
    uint64_t state = 11;
    for (float & v : values) v = next_value(state);
    ggml_tensor * x = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, k, 1);
    for (int64_t i = 0; i < k; ++i) static_cast<float *>(x->data)[i] = next_value(state);
    std::vector<std::unique_ptr<VnniMatrix>> packed;
    ggml_cgraph * g_ours = ggml_new_graph(ctx.get());
    ggml_cgraph * g_theirs = ggml_new_graph(ctx.get());
    for (int i = 0; i < count; ++i) {
        ggml_tensor * w = ggml_new_tensor_2d(ctx.get(), type, k, n);
        ggml_quantize_chunk(type, values.data(), w->data, 0, n, k, nullptr);
        packed.push_back(VnniMatrix::pack(w));
        if (!packed.back()) {
            std::printf("matvec: the VNNI kernel is not supported here\n");
            return;
        }
        ggml_build_forward_expand(g_ours, packed.back()->mul_mat(ctx.get(), x));
        ggml_build_forward_expand(g_theirs, ggml_mul_mat(ctx.get(), w, x));
    }
    const size_t total = weight_bytes * size_t(count);
    const ReadTimes t = time_against_read(runner, reps, g_ours, g_theirs, total);
    const double o = t.ours, a = t.theirs, rd = t.read;
    std::printf("matvec %s %d x 2048x8192 (%.0f MB): ours %.1f GB/s (%.2f of the read), ggml %.1f GB/s (%.2f), plain read %.1f GB/s\n",
                ggml_type_name(type), count, total / 1e6, total / o / 1e9, rd / o, total / a / 1e9, rd / a, total / rd / 1e9);
}

// Decode's attention at depth `depth`: Phi-1.5's 24 layers of f16 KV cache (2048 positions of
// 32 heads x 64), attended over `depth` rounded up to 256 as the text graph does, the rest masked.
// Ours against ggml's flash attention (what runs without our kernel) and a plain read of the bytes
// the attention must read, alternating.
void bench_decode_attention(Runner & runner, int reps, int64_t depth) {
    const int64_t layers = 24, heads = 32, d = 64, e = heads * d, n_ctx = 2048;
    const int64_t n_kv = std::min<int64_t>(n_ctx, (depth + 1 + 255) / 256 * 256);
    const size_t cache_bytes = size_t(layers) * 2 * size_t(e) * size_t(n_ctx) * 2;
    // In huge pages, as the model's KV cache is (kv_cache.cpp).
    AnonymousPages memory = map_anonymous(cache_bytes + (64u << 20));
    advise_huge_pages(memory.get(), cache_bytes + (64u << 20));
    ggml_context_ptr ctx(ggml_init({cache_bytes + (64u << 20), memory.get(), false}));
    ggml_cgraph * g_ours = ggml_new_graph(ctx.get());
    ggml_cgraph * g_theirs = ggml_new_graph(ctx.get());
    ggml_tensor * mask = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F16, n_kv, 1);
    for (int64_t j = 0; j < n_kv; ++j) static_cast<ggml_fp16_t *>(mask->data)[j] = ggml_fp32_to_fp16(j <= depth ? 0.0f : -INFINITY);
    uint64_t state = 17;
    const float scale = 1.0f / std::sqrt(float(d));
    std::vector<ggml_tensor *> outs_ours, outs_theirs;
    for (int64_t l = 0; l < layers; ++l) {
        ggml_tensor * kc = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F16, e, n_ctx);
        ggml_tensor * vc = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F16, e, n_ctx);
        for (ggml_tensor * c : {kc, vc}) {
            auto * h = static_cast<ggml_fp16_t *>(c->data);
            for (int64_t i = 0; i < e * n_ctx; ++i) h[i] = ggml_fp32_to_fp16(i < e * (depth + 1) ? next_value(state) * 2.0f : 0.0f);
        }
        ggml_tensor * q = ggml_new_tensor_3d(ctx.get(), GGML_TYPE_F32, d, heads, 1);
        for (int64_t i = 0; i < e; ++i) static_cast<float *>(q->data)[i] = next_value(state) * 2.0f;
        ggml_tensor * keys = ggml_view_3d(ctx.get(), kc, d, n_kv, heads, kc->nb[1], size_t(d) * 2, 0);
        ggml_tensor * values = ggml_view_3d(ctx.get(), vc, d, n_kv, heads, vc->nb[1], size_t(d) * 2, 0);
        ggml_tensor * ours = decode_attention(ctx.get(), q, keys, values, mask, scale);
        ggml_tensor * fa = ggml_flash_attn_ext(ctx.get(), ggml_permute(ctx.get(), q, 0, 2, 1, 3), keys, values, mask, scale, 0.0f, 0.0f);
        ggml_flash_attn_ext_set_prec(fa, GGML_PREC_F32);
        ggml_tensor * theirs = ggml_reshape_2d(ctx.get(), fa, e, 1);
        ggml_build_forward_expand(g_ours, ours);
        ggml_build_forward_expand(g_theirs, theirs);
        outs_ours.push_back(ours);
        outs_theirs.push_back(theirs);
    }
    const size_t read_bytes = size_t(layers) * 2 * size_t(e) * size_t(depth + 1) * 2;
    const ReadTimes t = time_against_read(runner, reps, g_ours, g_theirs, read_bytes);
    double worst = 0, top = 0;
    for (int64_t l = 0; l < layers; ++l) {
        for (int64_t i = 0; i < e; ++i) {
            const double ref = static_cast<const float *>(outs_theirs[size_t(l)]->data)[i];
            worst = std::max(worst, std::fabs(double(static_cast<const float *>(outs_ours[size_t(l)]->data)[i]) - ref));
            top = std::max(top, std::fabs(ref));
        }
    }
    const double o = t.ours, a = t.theirs, rd = t.read;
    std::printf("decode attention, 24 layers at depth %lld (%.0f MB of KV): ours %.2f ms (%.1f GB/s, %.2f of the read), ggml %.2f ms (%.2f), plain read %.2f ms; max diff %.1e of max |out|\n",
                (long long)depth, read_bytes / 1e6, o * 1e3, read_bytes / o / 1e9, rd / o, a * 1e3, rd / a, rd * 1e3, worst / top);
}

// An image prompt's attention: Phi-1.5's 32 heads of 64 over `t` new positions from an empty
// f16 KV cache, causal: ours against ggml's flash attention with a causal mask, alternating.
void bench_prefill_attention(Runner & runner, int reps, int64_t t, double peak) {
    const int64_t heads = 32, d = 64, e = heads * d;
    const int64_t n_kv = (t + 255) / 256 * 256;
    ggml_context_ptr ctx(ggml_init({size_t(256) << 20, nullptr, false}));
    uint64_t state = 23;
    ggml_tensor * q = ggml_new_tensor_3d(ctx.get(), GGML_TYPE_F32, d, heads, t);
    for (int64_t i = 0; i < e * t; ++i) static_cast<float *>(q->data)[i] = next_value(state) * 2.0f;
    ggml_tensor * kc = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F16, e, n_kv);
    ggml_tensor * vc = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F16, e, n_kv);
    for (ggml_tensor * c : {kc, vc}) {
        auto * h = static_cast<ggml_fp16_t *>(c->data);
        for (int64_t i = 0; i < e * n_kv; ++i) h[i] = ggml_fp32_to_fp16(i < e * t ? next_value(state) * 2.0f : 0.0f);
    }
    ggml_tensor * positions = ggml_new_tensor_1d(ctx.get(), GGML_TYPE_I32, t);
    for (int64_t i = 0; i < t; ++i) static_cast<int32_t *>(positions->data)[i] = int32_t(i);
    ggml_tensor * mask = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F16, n_kv, t);
    for (int64_t i = 0; i < mask->ne[1]; ++i) {
        for (int64_t j = 0; j < n_kv; ++j) static_cast<ggml_fp16_t *>(mask->data)[i * n_kv + j] = ggml_fp32_to_fp16(j <= i ? 0.0f : -INFINITY);
    }
    const float scale = 1.0f / std::sqrt(float(d));
    ggml_tensor * keys = ggml_view_3d(ctx.get(), kc, d, n_kv, heads, kc->nb[1], size_t(d) * 2, 0);
    ggml_tensor * values = ggml_view_3d(ctx.get(), vc, d, n_kv, heads, vc->nb[1], size_t(d) * 2, 0);
    ggml_tensor * ours = prefill_attention(ctx.get(), q, keys, values, positions, scale);
    ggml_tensor * fa = ggml_flash_attn_ext(ctx.get(), ggml_permute(ctx.get(), q, 0, 2, 1, 3), keys, values, mask, scale, 0.0f, 0.0f);
    ggml_flash_attn_ext_set_prec(fa, GGML_PREC_F32);
    ggml_tensor * theirs = ggml_reshape_2d(ctx.get(), fa, e, t);
    const AbTimes times = time_alternately(runner, reps, ctx.get(), theirs, ours);
    double worst = 0, top = 0;
    for (int64_t i = 0; i < e * t; ++i) {
        const double ref = static_cast<const float *>(theirs->data)[i];
        worst = std::max(worst, std::fabs(double(static_cast<const float *>(ours->data)[i]) - ref));
        top = std::max(top, std::fabs(ref));
    }
    const double flops = 2.0 * 2.0 * double(heads) * double(d) * double(t) * double(t + 1) / 2.0;  // QK^T and PV over the causal triangle
    std::printf("prefill attention 32x64, t=%lld: ggml %7.2f ms | ours %7.2f ms, %.0f GFLOP/s, %.2f of peak | %.2fx wall; max diff %.1e of max |out|\n",
                (long long)t, times.theirs_wall * 1e3, times.ours_wall * 1e3, flops / times.ours_wall / 1e9, flops / times.ours_wall / peak,
                times.theirs_wall / times.ours_wall, worst / top);
}

}  // namespace

int main(int argc, char ** argv) {
    const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
    const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
    std::vector<std::string> cases;
    for (int i = 3; i < argc; ++i) cases.emplace_back(argv[i]);
    if (cases.empty()) cases = {"f16"};
    ggml_cpu_init();
    auto probe = probe_machine(threads, size_t(256) << 20);
    if (!probe.ok()) return 1;
    std::printf("probe: fp32 %.0f GFLOP/s (%s), int8 %.0f GOP/s (%.0f with q8_0's per-block scaling: our int8 kernels' roofline), read %.1f GB/s, %d threads\n",
                probe.value().fp32_flops_per_second / 1e9, probe.value().fp32_isa.c_str(), probe.value().int8_ops_per_second / 1e9,
                probe.value().int8_block_ops_per_second / 1e9, probe.value().read_bytes_per_second / 1e9, threads);
    ggml_threadpool_params params = ggml_threadpool_params_default(threads);
    ggml_threadpool * pool = ggml_threadpool_new(&params);
    Runner runner{pool, threads, {}};
    // One core's peaks: the probe with one thread, whose loops run from registers.
    auto one_core = probe_machine(1, size_t(64) << 20);
    if (!one_core.ok()) return 1;
    const double core_peak = one_core.value().fp32_flops_per_second;
    std::printf("one core: %.0f GFLOP/s (%s), %.0f GOP/s (%s)\n", core_peak / 1e9, one_core.value().fp32_isa.c_str(),
                one_core.value().int8_ops_per_second / 1e9, one_core.value().int8_isa.c_str());
    for (const std::string & c : cases) {
        if (c == "f16" || c == "bf16") {
            // The vision tower's matmuls: q/k/v/o, fc1, fc2, and the projector's two.
            const ggml_type type = c == "f16" ? GGML_TYPE_F16 : GGML_TYPE_BF16;
            const bool dot_products = type == GGML_TYPE_BF16 && F16Matrix::bf16_cpu_choice().chosen;
            const double peak = dot_products ? probe.value().bf16_flops_per_second : probe.value().fp32_flops_per_second;
            const double core = dot_products ? one_core.value().bf16_flops_per_second : core_peak;
            if (type == GGML_TYPE_BF16) std::printf("bf16: %s; fractions are of the %s peak\n", dot_products ? "VDPBF16PS" : "widened to f32", dot_products ? "bf16" : "fp32");
            for (const auto & [k, n] : {std::pair<int64_t, int64_t>{1152, 1152}, {1152, 3456}, {1152, 4304}, {4304, 1152}, {1152, 8192}, {8192, 2048}}) {
                bench_half(runner, reps, type, k, n, 729, peak, core);
            }
        } else if (c == "int8") {
            const double peak = probe.value().int8_ops_per_second;
            const double vnni_core = one_core.value().int8_ops_per_second;
            const double roofline = probe.value().int8_block_ops_per_second;
            for (ggml_type type : {GGML_TYPE_Q4_0, GGML_TYPE_Q8_0}) {
                bench_int8(runner, reps, type, 2048, 6144, 753, peak, vnni_core, roofline);  // q, k and v
                bench_int8(runner, reps, type, 2048, 2048, 753, peak, vnni_core, roofline);  // attention output
                bench_int8(runner, reps, type, 2048, 8192, 753, peak, vnni_core, roofline);  // MLP up
                bench_int8(runner, reps, type, 8192, 2048, 753, peak, vnni_core, roofline);  // MLP down
            }
        } else if (c == "matvec") {
            bench_matvec(runner, reps, GGML_TYPE_Q4_0, 24);
            bench_matvec(runner, reps, GGML_TYPE_Q8_0, 16);
        } else if (c == "decode_attention") {
            for (int64_t depth : {750, 1500}) bench_decode_attention(runner, reps, depth);
        } else if (c == "prefill_attention") {
            bench_prefill_attention(runner, reps, 753, probe.value().fp32_flops_per_second);
        } else if (c == "erf") {
            check_erf();
        } else if (c == "attention") {
            bench_attention(runner, reps, core_peak);
        }
    }
    ggml_threadpool_free(pool);
    return 0;
}
