// The Phi-1.5 forward graph for a batch of positions [n_past, n_past + n_tokens): one LayerNorm
// feeding attention and MLP in parallel, fused QKV, partial NeoX RoPE, causal attention over the
// KV cache, tanh-GELU MLP, final LayerNorm and lm_head on the last position only.
#pragma once

#include "kv_cache.h"
#include "text_model.h"

namespace moondream {

struct TextGraph {
    ggml_cgraph * graph = nullptr;
    ggml_tensor * embeddings = nullptr;  // input [n_embd, n_tokens]
    ggml_tensor * positions = nullptr;   // input [n_tokens] i32
    ggml_tensor * mask = nullptr;        // input [n_kv, n_tokens] f32: 0 or -inf
    ggml_tensor * cache_rows = nullptr;  // input [n_tokens] i64: the cache row each position goes to (flash attention layout only)
    ggml_tensor * logits = nullptr;      // output [n_vocab, 1]
};

// How many cache positions a batch attends over: the used ones rounded up to a multiple of 256
// (masked), as llama.cpp does. Fixed-size attention makes a token's arithmetic independent of how
// the prompt was batched, and lets one decode graph serve 256 consecutive positions.
int attended_positions(int n_past, int n_tokens, int capacity);

// With flash attention the graph depends only on (n_tokens, attended_positions), not on n_past:
// positions, mask and cache rows are inputs, so a decode graph serves 256 consecutive tokens.
TextGraph build_text_graph(ggml_context * ctx, const TextModel & model, const KvCache & kv, int n_past, int n_tokens, bool exact_gelu);

// Room a graph context needs for any text graph of this model.
size_t text_graph_context_size(const TextModel & model);

}  // namespace moondream
