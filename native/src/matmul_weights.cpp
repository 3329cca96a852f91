#include "matmul_weights.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>

#include "gelu_table.h"
#include "graph_ops.h"
#include "packed_cache.h"
#include "try.h"

namespace moondream {

namespace {

// Our kernels read f32 rows of contiguous values and add an f32 bias of n contiguous values
// (what the loaders check and the graphs build); anything else goes to ggml.
bool rows_fit_kernels(const ggml_tensor * x) { return x->type == GGML_TYPE_F32 && x->nb[0] == sizeof(float) && x->ne[2] == 1 && x->ne[3] == 1; }

bool bias_fits_kernels(const ggml_tensor * bias, const ggml_tensor * weight) {
    return bias == nullptr || (bias->type == GGML_TYPE_F32 && ggml_is_contiguous(bias) && bias->ne[0] == weight->ne[1] &&
                               ggml_nelements(bias) == bias->ne[0]);
}

}  // namespace

WeightPlacement weight_placement(const LoadParams & params) {
    WeightPlacement placement;
    placement.ggml_repack = params.repack_weights && std::getenv("MOONDREAM_DISABLE_REPACK") == nullptr;
    placement.vnni_kernel = params.vnni_kernel && std::getenv("MOONDREAM_DISABLE_VNNI_MATRIX") == nullptr;
    if (std::getenv("MOONDREAM_DISABLE_PACKED_CACHE") == nullptr) placement.packed_cache_dir = params.packed_cache_dir;
    return placement;
}

Status MatmulWeights::place(WeightFile & file, const std::vector<ggml_tensor *> & weights, const WeightPlacement & placement) {
    // Weights our kernel takes are left out of ggml's repacking (one packed copy is enough).
    std::vector<ggml_tensor *> ours;
    std::vector<ggml_tensor *> halves;
    std::vector<ggml_tensor *> ggmls;
    // vnniKernel: false (or MOONDREAM_DISABLE_VNNI_MATRIX) leaves every weight to ggml, ours included.
    for (ggml_tensor * w : weights) {
        (!placement.vnni_kernel ? ggmls : VnniMatrix::supports(w) ? ours : F16Matrix::supports(w) ? halves : ggmls).push_back(w);
    }
    MD_RETURN_IF_ERROR(file.map_weights(placement.ggml_repack ? ggmls : std::vector<ggml_tensor *>{}));
    // f16 weights are read where they are mapped: nothing to copy.
    for (ggml_tensor * w : halves) {
        if (auto wrapped = F16Matrix::wrap(w)) f16_.emplace(w, std::move(wrapped));
    }

    // Packing reads each weight once (pread, WeightFile::read_tensor_bytes): spread the tensors
    // over the cores (a full q8_0 text model packs in about 1 s on one).
    std::vector<size_t> offsets(ours.size());
    size_t total = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
        offsets[i] = total;
        total += (VnniMatrix::packed_bytes(ours[i]) + 63) / 64 * 64;
    }
    const size_t workers = std::min<size_t>(ours.size(), std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8));

    // A cache file from an earlier load, when one matches: mapped, nothing packed.
    PackedCacheKey key;
    std::string cache_path;
    std::string why_missed;
    if (total > 0 && !placement.packed_cache_dir.empty()) {
        key.source_path = file.path();
        key.layout = VnniMatrix::layout_fingerprint();
        key.data_bytes = total;
        for (size_t i = 0; i < ours.size(); ++i) {
            const ggml_tensor * w = ours[i];
            key.manifest += std::string(ggml_get_name(w)) + " " + ggml_type_name(w->type) + " " + std::to_string(w->ne[0]) + " " +
                            std::to_string(w->ne[1]) + " " + std::to_string(w->nb[1]) + " " + std::to_string(offsets[i]) + "\n";
        }
        cache_path = packed_cache_path(placement.packed_cache_dir, key);
        if (std::optional<MappedFile> cached = map_packed_cache(cache_path, key, int(workers), why_missed)) {
            const uint8_t * data = cached->data() + packed_cache_data_offset();
            for (size_t i = 0; i < ours.size(); ++i) {
                if (auto matrix = VnniMatrix::adopt(ours[i], data + offsets[i])) vnni_.emplace(ours[i], std::move(matrix));
            }
            packed_file_ = std::move(cached);
            cache_use_ = "loaded " + cache_path;
            return std::nullopt;
        }
    }

    // Packed straight into a new cache file where one can be made, else into memory of our own.
    std::string why_no_writer;
    std::optional<PackedCacheWriter> writer =
        cache_path.empty() ? std::nullopt : PackedCacheWriter::create(placement.packed_cache_dir, cache_path, key, why_no_writer);
    if (!cache_path.empty() && !writer) cache_use_ = "not written: " + why_no_writer;
    uint8_t * packed_base = nullptr;
    if (writer) {
        packed_base = writer->data();
    } else if (total > 0) {
        packed_memory_ = map_anonymous_huge(total);
        if (!packed_memory_) return Error{ErrorCode::out_of_memory, "not enough memory to repack the weights of '" + file.path() + "'"};
        packed_base = packed_memory_.get();
    }
    std::vector<std::unique_ptr<VnniMatrix>> packed(ours.size());
    std::atomic<size_t> next{0};
    std::atomic<bool> out_of_memory{false};
    auto work = [&] {
        for (size_t i; (i = next.fetch_add(1)) < ours.size();) {
            try {
                // Read with pread, never faulted in through the mapping; should that fail, through it.
                const ggml_tensor * w = ours[i];
                uint8_t * into = packed_base + offsets[i];
                packed[i] = VnniMatrix::pack_into(w, into, [&](int64_t first, int64_t count, uint8_t * out) {
                    return file.read_tensor_bytes(w, size_t(first) * w->nb[1], size_t(count) * w->nb[1], out);
                });
                if (!packed[i]) {
                    packed[i] = VnniMatrix::pack_into(w, into);
                    // Read through the mapping: its pages go at once, so peak memory grows by one
                    // tensor per core, not by the model.
                    if (packed[i]) file.release_mapped(w);
                }
            } catch (const std::bad_alloc &) {
                out_of_memory = true;
            }
        }
    };
    std::vector<std::thread> threads;
    for (size_t i = 1; i < workers; ++i) threads.emplace_back(work);
    work();
    for (std::thread & t : threads) t.join();
    if (out_of_memory) return Error{ErrorCode::out_of_memory, "not enough memory to repack the weights of '" + file.path() + "'"};
    // pack() re-checks supports(); a weight it declined stays with ggml, mapped in place.
    bool all_packed = true;
    for (size_t i = 0; i < ours.size(); ++i) {
        if (packed[i]) vnni_.emplace(ours[i], std::move(packed[i]));
        else all_packed = false;
    }
    // For the next load. A failure to write costs this load nothing but the attempt.
    if (writer) {
        std::string why_not;
        if (!all_packed) cache_use_ = "not written: a weight could not be packed";
        else if (writer->commit(int(workers), why_not)) cache_use_ = "written " + cache_path + " (" + why_missed + ")";
        else cache_use_ = "not written: " + why_not;
        packed_file_ = writer->take_mapping();
    }
    return std::nullopt;
}

ggml_tensor * MatmulWeights::linear(ggml_context * ctx, ggml_tensor * x, ggml_tensor * weight, ggml_tensor * bias) const {
    const bool rows_fit = rows_fit_kernels(x);
    const bool bias_fits = bias_fits_kernels(bias, weight);
    if (rows_fit) {
        if (auto it = vnni_.find(weight); it != vnni_.end()) {
            return bias_fits ? it->second->mul_mat(ctx, x, bias) : ggml_add(ctx, it->second->mul_mat(ctx, x), bias);
        }
        if (auto it = f16_.find(weight); it != f16_.end()) {
            return bias_fits ? it->second->mul_mat(ctx, x, bias) : ggml_add(ctx, it->second->mul_mat(ctx, x), bias);
        }
    }
    return moondream::linear(ctx, x, weight, bias);
}

void MatmulWeights::stack(const std::vector<const ggml_tensor *> & weights) {
    if (std::getenv("MOONDREAM_DISABLE_STACKED_MATRICES") != nullptr) return;
    std::vector<const F16Matrix *> parts;
    for (const ggml_tensor * w : weights) {
        auto it = f16_.find(w);
        if (it == f16_.end()) return;
        parts.push_back(it->second.get());
    }
    if (auto matrix = F16Matrix::stack(parts)) stacked_[weights.front()] = Stacked{weights, std::move(matrix)};
}

std::vector<ggml_tensor *> MatmulWeights::linear_each(ggml_context * ctx, ggml_tensor * x, const std::vector<ggml_tensor *> & weights,
                                                      const std::vector<ggml_tensor *> & biases) const {
    auto it = weights.empty() ? stacked_.end() : stacked_.find(weights.front());
    bool fits = it != stacked_.end() && rows_fit_kernels(x) && it->second.weights.size() == weights.size() &&
                (biases.empty() || biases.size() == weights.size());
    for (size_t i = 0; fits && i < weights.size(); ++i) {
        fits = it->second.weights[i] == weights[i] && (biases.empty() || (biases[i] != nullptr && bias_fits_kernels(biases[i], weights[i])));
    }
    std::vector<ggml_tensor *> out;
    if (!fits) {
        for (size_t i = 0; i < weights.size(); ++i) out.push_back(linear(ctx, x, weights[i], biases.empty() ? nullptr : biases[i]));
        return out;
    }
    ggml_tensor * rows = it->second.matrix->mul_mat(ctx, x, biases);
    size_t column = 0;
    for (const ggml_tensor * w : weights) {
        out.push_back(ggml_view_2d(ctx, rows, w->ne[1], rows->ne[1], rows->nb[1], column * sizeof(float)));
        column += size_t(w->ne[1]);
    }
    return out;
}

ggml_tensor * MatmulWeights::linear_gelu(ggml_context * ctx, ggml_tensor * x, ggml_tensor * weight, ggml_tensor * bias, Gelu flavour) const {
    const bool rows_fit = rows_fit_kernels(x) && x->ne[1] > 1;
    const bool bias_fits = bias_fits_kernels(bias, weight);
    if (flavour == Gelu::erf && rows_fit && bias_fits) {
        if (auto it = f16_.find(weight); it != f16_.end()) return it->second->mul_mat(ctx, x, bias, true);
    }
    return gelu(ctx, linear(ctx, x, weight, bias), flavour, true);
}

ggml_tensor * MatmulWeights::linear_gelu_table(ggml_context * ctx, ggml_tensor * x, ggml_tensor * weight, ggml_tensor * bias,
                                               const std::vector<float> & table) const {
    const bool rows_fit = rows_fit_kernels(x);
    const bool bias_fits = bias_fits_kernels(bias, weight);
    if (rows_fit && bias_fits && std::getenv("MOONDREAM_DISABLE_FUSED_GELU") == nullptr) {
        if (auto it = vnni_.find(weight); it != vnni_.end()) {
            if (ggml_tensor * fused = it->second->mul_mat(ctx, x, bias, table.data())) return fused;
        }
    }
    return gelu_from_table(ctx, linear(ctx, x, weight, bias), table);
}

size_t MatmulWeights::packed_bytes() const {
    size_t total = 0;
    for (const auto & [weight, matrix] : vnni_) total += matrix->bytes();
    return total;
}

bool MatmulWeights::on_bf16_kernel(const ggml_tensor * weight) const {
    const auto found = f16_.find(weight);
    return found != f16_.end() && found->second->kernel() == F16Matrix::Kernel::avx512_bf16;
}

}  // namespace moondream
