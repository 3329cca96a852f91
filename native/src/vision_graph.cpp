#include "vision_graph.h"

#include <algorithm>
#include <cmath>

#include "graph_ops.h"
#include "vision_attention.h"

namespace moondream {

namespace {

constexpr int kNodesPerBlock = 48;

int graph_nodes(const VisionModel & model) { return kNodesPerBlock * (model.hp.n_block_run + 4); }

}  // namespace

size_t vision_graph_context_size(const VisionModel & model) {
    const int nodes = graph_nodes(model);
    return size_t(nodes) * ggml_tensor_overhead() + ggml_graph_overhead_custom(size_t(nodes), false);
}

void patchify(const float * chw, int image_size, int patch_size, float * out) {
    const int grid = image_size / patch_size;
    const size_t plane = size_t(image_size) * size_t(image_size);
    for (int py = 0; py < grid; ++py) {
        for (int px = 0; px < grid; ++px) {
            float * patch = out + (size_t(py) * size_t(grid) + size_t(px)) * size_t(3 * patch_size * patch_size);
            for (int c = 0; c < 3; ++c) {
                for (int y = 0; y < patch_size; ++y) {
                    const float * row = chw + size_t(c) * plane + size_t(py * patch_size + y) * size_t(image_size) + size_t(px * patch_size);
                    std::copy(row, row + patch_size, patch + size_t((c * patch_size + y) * patch_size));
                }
            }
        }
    }
}

void fill_key_mask(const VisionGraph & graph, int64_t n_patches, std::vector<float> & scratch) {
    if (graph.key_mask == nullptr) return;
    const int64_t n_keys = graph.key_mask->ne[0];
    scratch.assign(size_t(n_keys * graph.key_mask->ne[1]), 0.0f);
    for (int64_t i = 0; i < graph.key_mask->ne[1]; ++i) {
        std::fill(scratch.begin() + i * n_keys + n_patches, scratch.begin() + (i + 1) * n_keys, -INFINITY);
    }
    ggml_backend_tensor_set(graph.key_mask, scratch.data(), 0, scratch.size() * sizeof(float));
}

VisionGraph build_vision_graph(ggml_context * ctx, const VisionModel & model) {
    const VisionHparams & hp = model.hp;
    const int64_t e = hp.n_embd;
    const int64_t n_head = hp.n_head;
    const int64_t head_dim = e / n_head;
    const int64_t grid = hp.image_size / hp.patch_size;
    const int64_t n = grid * grid;
    const int64_t patch_values = 3 * int64_t(hp.patch_size) * hp.patch_size;
    const Gelu gelu_kind = model.profile.vision_gelu;

    VisionGraph g;
    g.graph = ggml_new_graph_custom(ctx, size_t(graph_nodes(model)), false);
    g.patches = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, patch_values, n);
    ggml_set_name(g.patches, "inp_patches");
    ggml_set_input(g.patches);

    // The conv kernel [p, p, 3, e] is, byte for byte, the linear patch embedding [3*p*p, e].
    ggml_tensor * kernel = ggml_reshape_2d(ctx, model.patch, patch_values, e);
    ggml_tensor * x = linear(ctx, g.patches, kernel, model.patch_b);  // [e, n]
    ggml_tensor * position = model.position;
    if (position->type != GGML_TYPE_F32) position = ggml_cast(ctx, position, GGML_TYPE_F32);
    x = ggml_add(ctx, x, position);

    auto mm = [&](ggml_tensor * in, ggml_tensor * weight, ggml_tensor * bias) { return model.matmuls.linear(ctx, in, weight, bias); };
    const float scale = 1.0f / std::sqrt(float(head_dim));
    const bool own_attention = vision_attention_supported();
    const int64_t n_keys = (n + 7) / 8 * 8;
    if (!own_attention && n_keys != n) {
        g.key_mask = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, n_keys, n);
        ggml_set_name(g.key_mask, "inp_key_mask");
        ggml_set_input(g.key_mask);
    }
    for (const VisionLayer & l : model.layers) {
        ggml_tensor * h = layer_norm(ctx, x, l.ln1, l.ln1_b, hp.norm_eps);
        ggml_tensor * mixed = nullptr;
        if (own_attention) {
            // One product for q, k and v where they stack (MatmulWeights::stack): the attention
            // reads them as views of its rows.
            const std::vector<ggml_tensor *> qkv = model.matmuls.linear_each(ctx, h, {l.q, l.k, l.v}, {l.q_b, l.k_b, l.v_b});
            mixed = vision_attention(ctx, qkv[0], qkv[1], qkv[2], int(n_head), scale, model.matmuls.on_bf16_kernel(l.q));
        } else {
            // Both products in ggml's tiled sgemm (llamafile), not a dot product per output (a
            // fifth of an encode on ggml's AVX2 path): it wants the queries contiguous, and sums
            // whose length is a multiple of 8, which the values' sum over 729 keys is not. So keys
            // and values get zero rows up to n_keys, and the mask takes the padded keys out of
            // the softmax: weight 0 for a value of 0.
            ggml_tensor * q = ggml_reshape_3d(ctx, mm(h, l.q, l.q_b), head_dim, n_head, n);
            ggml_tensor * k = ggml_reshape_3d(ctx, mm(h, l.k, l.k_b), head_dim, n_head, n);
            ggml_tensor * v = ggml_reshape_3d(ctx, mm(h, l.v, l.v_b), head_dim, n_head, n);
            q = ggml_cont(ctx, ggml_permute(ctx, q, 0, 2, 1, 3));   // [head_dim, n, n_head]
            k = ggml_permute(ctx, k, 0, 2, 1, 3);                   // [head_dim, n, n_head]
            v = ggml_cont(ctx, ggml_permute(ctx, v, 1, 2, 0, 3));   // [n, head_dim, n_head]
            if (g.key_mask != nullptr) {
                k = ggml_pad(ctx, k, 0, int(n_keys - n), 0, 0);     // [head_dim, n_keys, n_head]
                v = ggml_pad(ctx, v, int(n_keys - n), 0, 0, 0);     // [n_keys, head_dim, n_head]
            }
            ggml_tensor * scores = ggml_soft_max_ext(ctx, ggml_mul_mat(ctx, k, q), g.key_mask, scale, 0.0f);  // [n_keys, n, n_head]
            mixed = ggml_mul_mat(ctx, v, scores);                   // [head_dim, n, n_head]
            mixed = ggml_cont_2d(ctx, ggml_permute(ctx, mixed, 0, 2, 1, 3), e, n);
        }
        x = ggml_add(ctx, x, mm(mixed, l.attn_out, l.attn_out_b));

        h = layer_norm(ctx, x, l.ln2, l.ln2_b, hp.norm_eps);
        h = model.matmuls.linear_gelu(ctx, h, l.fc1, l.fc1_b, gelu_kind);
        x = ggml_add(ctx, x, mm(h, l.fc2, l.fc2_b));
    }
    x = layer_norm(ctx, x, model.post_ln, model.post_ln_b, hp.norm_eps);

    x = model.matmuls.linear_gelu(ctx, x, model.mm0, model.mm0_b, model.profile.projector_gelu);
    g.embeddings = mm(x, model.mm2, model.mm2_b);
    ggml_set_output(g.embeddings);
    ggml_build_forward_expand(g.graph, g.embeddings);
    return g;
}

}  // namespace moondream
