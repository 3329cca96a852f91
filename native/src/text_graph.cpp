#include "text_graph.h"

#include <algorithm>
#include <cmath>

#include "decode_attention.h"
#include "gelu_table.h"
#include "prefill_attention.h"
#include "graph_ops.h"

namespace moondream {

namespace {

constexpr int kNodesPerLayer = 64;

int graph_nodes(const TextModel & model) { return kNodesPerLayer * (model.hp.n_layer + 2); }

// The last column of a contiguous [n, t] tensor as [n, 1] (itself when t == 1).
ggml_tensor * last_column(ggml_context * ctx, ggml_tensor * m) {
    if (m->ne[1] == 1) return m;
    return ggml_view_2d(ctx, m, m->ne[0], 1, m->nb[1], size_t(m->ne[1] - 1) * m->nb[1]);
}

}  // namespace

int attended_positions(int n_past, int n_tokens, int capacity) {
    constexpr int kPad = 256;
    const int used = n_past + n_tokens;
    return std::min(capacity, (used + kPad - 1) / kPad * kPad);
}

size_t text_graph_context_size(const TextModel & model) {
    const int nodes = graph_nodes(model);
    return size_t(nodes) * ggml_tensor_overhead() + ggml_graph_overhead_custom(size_t(nodes), false);
}

TextGraph build_text_graph(ggml_context * ctx, const TextModel & model, const KvCache & kv, int n_past, int n_tokens, bool exact_gelu) {
    const TextHparams & hp = model.hp;
    const int64_t e = hp.n_embd;
    const int64_t n_head = hp.n_head;
    const int64_t head_dim = e / n_head;
    const int64_t t = n_tokens;
    const int64_t n_kv = attended_positions(n_past, n_tokens, kv.capacity());
    const size_t f32 = sizeof(float);

    TextGraph g;
    g.graph = ggml_new_graph_custom(ctx, size_t(graph_nodes(model)), false);
    g.embeddings = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, e, t);
    ggml_set_name(g.embeddings, "inp_embd");
    ggml_set_input(g.embeddings);
    g.positions = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, t);
    ggml_set_name(g.positions, "inp_pos");
    ggml_set_input(g.positions);
    // Flash attention wants an f16 mask; plain softmax takes f32.
    g.mask = ggml_new_tensor_2d(ctx, kv.values_transposed() ? GGML_TYPE_F32 : GGML_TYPE_F16, n_kv, t);
    ggml_set_name(g.mask, "inp_mask");
    ggml_set_input(g.mask);
    if (!kv.values_transposed()) {
        // Cache rows are written through an index input, so the graph does not depend on n_past.
        g.cache_rows = ggml_new_tensor_1d(ctx, GGML_TYPE_I64, t);
        ggml_set_name(g.cache_rows, "inp_cache_rows");
        ggml_set_input(g.cache_rows);
    }

    const size_t kv_element = ggml_type_size(kv.type());
    auto project = [&](ggml_tensor * in, ggml_tensor * weight, ggml_tensor * bias) { return model.matmuls.linear(ctx, in, weight, bias); };
    ggml_tensor * x = g.embeddings;
    for (int il = 0; il < hp.n_layer; ++il) {
        const TextLayer & l = model.layers[size_t(il)];
        ggml_tensor * h = layer_norm(ctx, x, l.attn_norm, l.attn_norm_b, hp.norm_eps);

        // --- attention
        ggml_tensor * qkv = project(h, l.qkv, l.qkv_b);  // [3e, t]: Q | K | V, head-major inside each
        ggml_tensor * q = ggml_view_3d(ctx, qkv, head_dim, n_head, t, head_dim * f32, qkv->nb[1], 0);
        ggml_tensor * k = ggml_view_3d(ctx, qkv, head_dim, n_head, t, head_dim * f32, qkv->nb[1], size_t(e) * f32);
        ggml_tensor * v = ggml_view_2d(ctx, qkv, e, t, qkv->nb[1], size_t(2 * e) * f32);
        q = ggml_rope_ext(ctx, q, g.positions, nullptr, hp.n_rot, GGML_ROPE_TYPE_NEOX, hp.n_ctx_train, hp.rope_base,
                          1.0f, 0.0f, 1.0f, 0.0f, 0.0f);
        k = ggml_rope_ext(ctx, k, g.positions, nullptr, hp.n_rot, GGML_ROPE_TYPE_NEOX, hp.n_ctx_train, hp.rope_base,
                          1.0f, 0.0f, 1.0f, 0.0f, 0.0f);
        const float scale = 1.0f / std::sqrt(float(head_dim));
        // A decode step over the flash-attention layout runs our own attention (f32 throughout).
        const bool own_decode = t == 1 && !kv.values_transposed() && kv.type() == GGML_TYPE_F16 && decode_attention_supported(head_dim);
        // A prefill over that layout runs our own blocked attention (f32 throughout).
        const bool own_prefill = t > 1 && !kv.values_transposed() && prefill_attention_supported();
        // Scaling Q before QK^T (as llama.cpp's phi2 graph does) keeps f16 scores in range.
        if (!own_decode && !own_prefill) q = ggml_scale(ctx, q, scale);

        ggml_tensor * k_cache = kv.keys(il);
        ggml_tensor * v_cache = kv.values(il);
        ggml_tensor * keys = ggml_view_3d(ctx, k_cache, head_dim, n_kv, n_head, k_cache->nb[1], size_t(head_dim) * kv_element, 0);
        ggml_tensor * mixed = nullptr;
        if (!kv.values_transposed()) {
            // Flash attention: values stored like keys, one row per position.
            ggml_build_forward_expand(g.graph, ggml_set_rows(ctx, k_cache, ggml_reshape_2d(ctx, k, e, t), g.cache_rows));
            ggml_build_forward_expand(g.graph, ggml_set_rows(ctx, v_cache, v, g.cache_rows));
            ggml_tensor * values = ggml_view_3d(ctx, v_cache, head_dim, n_kv, n_head, v_cache->nb[1], size_t(head_dim) * kv_element, 0);
            if (own_decode) {
                mixed = decode_attention(ctx, q, keys, values, g.mask, scale);  // [e, 1]
            } else if (own_prefill) {
                mixed = prefill_attention(ctx, q, keys, values, g.positions, scale);  // [e, t]
            } else {
                ggml_tensor * out = ggml_flash_attn_ext(ctx, ggml_permute(ctx, q, 0, 2, 1, 3), keys, values, g.mask, 1.0f, 0.0f, 0.0f);
                ggml_flash_attn_ext_set_prec(out, GGML_PREC_F32);
                mixed = ggml_reshape_2d(ctx, out, e, t);  // [head_dim, n_head, t] -> [e, t]
            }
        } else {
            ggml_tensor * k_dst = ggml_view_2d(ctx, k_cache, e, t, k_cache->nb[1], size_t(n_past) * k_cache->nb[1]);
            ggml_build_forward_expand(g.graph, ggml_cpy(ctx, k, k_dst));
            ggml_tensor * v_dst = ggml_view_2d(ctx, v_cache, t, e, v_cache->nb[1], size_t(n_past) * kv_element);
            ggml_build_forward_expand(g.graph, ggml_cpy(ctx, ggml_transpose(ctx, v), v_dst));
            ggml_tensor * values = ggml_view_3d(ctx, v_cache, n_kv, head_dim, n_head, v_cache->nb[1], v_cache->nb[1] * size_t(head_dim), 0);
            ggml_tensor * scores = ggml_mul_mat(ctx, keys, ggml_permute(ctx, q, 0, 2, 1, 3));  // [n_kv, t, n_head]
            scores = ggml_soft_max_ext(ctx, scores, g.mask, 1.0f, 0.0f);
            mixed = ggml_mul_mat(ctx, values, scores);  // [head_dim, t, n_head]
            mixed = ggml_cont_2d(ctx, ggml_permute(ctx, mixed, 0, 2, 1, 3), e, t);
        }
        if (il == hp.n_layer - 1 && t > 1) {
            // Only the last position's logits are wanted, and after attention no position looks at
            // another: the last block's output projection and MLP (3/4 of its matmul work) run for
            // that position alone, as in llama.cpp. About 3% of a long prefill.
            mixed = last_column(ctx, mixed);
            h = last_column(ctx, h);
            x = last_column(ctx, x);
        }
        ggml_tensor * attn = project(mixed, l.attn_out, l.attn_out_b);

        // --- MLP, from the same normalised input (parallel block)
        ggml_tensor * ffn = !exact_gelu && !model.gelu_table.empty() ? model.matmuls.linear_gelu_table(ctx, h, l.ffn_up, l.ffn_up_b, model.gelu_table)
                                                                      : gelu(ctx, project(h, l.ffn_up, l.ffn_up_b), Gelu::tanh, exact_gelu);
        ffn = project(ffn, l.ffn_down, l.ffn_down_b);

        x = ggml_add(ctx, ggml_add(ctx, x, attn), ffn);
    }

    // Only the last position's logits are needed: 51,200 x n_embd per position is not free.
    ggml_tensor * last = layer_norm(ctx, last_column(ctx, x), model.out_norm, model.out_norm_b, hp.norm_eps);
    g.logits = project(last, model.output, model.output_b);
    ggml_set_output(g.logits);
    ggml_build_forward_expand(g.graph, g.logits);
    return g;
}

}  // namespace moondream
