// The matmul weights of one model file, each placed for the fastest kernel this CPU has for it:
// our VNNI kernel (vnni_matrix.h) for q8_0/q4_0 and our f16 kernel (f16_matrix.h, reading the
// mapped file in place) where they apply, else ggml's CPU_REPACK layout where ggml has one, else
// the memory-mapped file as is.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "moondream.h"
#include "f16_matrix.h"
#include "mapped_file.h"
#include "memory_pages.h"
#include "vnni_matrix.h"
#include "weight_file.h"

namespace moondream {

// Which faster layouts the loader may copy matmul weights into.
struct WeightPlacement {
    bool ggml_repack = true;  // ggml's CPU_REPACK layouts
    bool vnni_kernel = true;  // our VNNI kernel's tiles (where the CPU has AVX-512 VNNI)
    std::string packed_cache_dir;  // where our tiles are cached between loads (packed_cache.h); empty: nowhere
};

// LoadParams' choices with the documented environment overrides applied: MOONDREAM_DISABLE_REPACK
// and MOONDREAM_DISABLE_VNNI_MATRIX (any value) turn the layout off whatever the params say, so a
// deployment can rule out a kernel without changing the program; MOONDREAM_DISABLE_PACKED_CACHE
// turns the packed-weight cache off.
WeightPlacement weight_placement(const LoadParams & params);

class MatmulWeights {
public:
    // Maps `file` and places `weights` (all its matmul weights) as `placement` allows. Weights
    // packed for our kernel have their mapped pages released: only the packed copy is read from
    // then on.
    Status place(WeightFile & file, const std::vector<ggml_tensor *> & weights, const WeightPlacement & placement);

    // x W^T + b through whichever kernel holds W.
    ggml_tensor * linear(ggml_context * ctx, ggml_tensor * x, ggml_tensor * weight, ggml_tensor * bias) const;
    // Registers `weights`, which multiply the same activations (a vision layer's q, k and v), for
    // one product (F16Matrix::stack) where all of them are on the f16 kernel and stack; else nothing.
    void stack(const std::vector<const ggml_tensor *> & weights);
    // x W_i^T + b_i for each weight (biases: one each, or none): views of one product's rows where
    // stack() registered exactly these weights and the biases fit it, else linear() of each.
    std::vector<ggml_tensor *> linear_each(ggml_context * ctx, ggml_tensor * x, const std::vector<ggml_tensor *> & weights,
                                           const std::vector<ggml_tensor *> & biases) const;
    // gelu(x W^T + b) (erf GELU fused into the product where the kernel can, else gelu() of graph_ops.h).
    ggml_tensor * linear_gelu(ggml_context * ctx, ggml_tensor * x, ggml_tensor * weight, ggml_tensor * bias, Gelu flavour) const;

    // ggml_gelu(x W^T + b) with ggml's table GELU (gelu_table.h: `table` is compute_gelu_table's),
    // fused into our VNNI kernel's stores where W is ours (MOONDREAM_DISABLE_FUSED_GELU=1 says
    // no, read at each graph build), else gelu_from_table() of linear().
    ggml_tensor * linear_gelu_table(ggml_context * ctx, ggml_tensor * x, ggml_tensor * weight, ggml_tensor * bias,
                                    const std::vector<float> & table) const;

    // Whether W's products run on bf16 dot products (a bf16 weight on the VDPBF16PS kernel): the
    // vision attention of such a model takes them too.
    bool on_bf16_kernel(const ggml_tensor * weight) const;

    size_t packed_bytes() const;
    // What the packed-weight cache did at place(): "" (not used: no directory, or nothing of ours
    // to pack), "loaded <file>", "written <file> (<why the earlier one was not used>)" or
    // "not written: <why>".
    const std::string & packed_cache_use() const { return cache_use_; }

private:
    // One mapping in huge pages holds every packed weight (its size in one place, not a partial
    // 2 MiB page of 4 KiB faults per tensor); the matrices point into it.
    AnonymousPages packed_memory_;
    // Or the same bytes mapped from a cache file (packed_cache.h).
    std::optional<MappedFile> packed_file_;
    std::string cache_use_;
    std::unordered_map<const ggml_tensor *, std::unique_ptr<VnniMatrix>> vnni_;
    std::unordered_map<const ggml_tensor *, std::unique_ptr<F16Matrix>> f16_;
    // stack()'s products, by their first weight, with the weights they stack.
    struct Stacked {
        std::vector<const ggml_tensor *> weights;
        std::unique_ptr<F16Matrix> matrix;
    };
    std::unordered_map<const ggml_tensor *, Stacked> stacked_;
};

}  // namespace moondream
