#include "op_profile.h"

#include <chrono>
#include <cstring>
#include <memory>

#include "ggml.h"

// ggml's own graph builder (ggml-impl.h, exported by ggml-base): appends a node without walking its
// parents, which ggml_build_forward_expand would pull in with it.
extern "C" void ggml_graph_add_node(struct ggml_cgraph * cgraph, struct ggml_tensor * tensor);

namespace moondream {

void OpProfile::add(const std::string & graph, const std::string & op, double ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (OpTime & total : totals_) {
        if (total.graph == graph && total.op == op) {
            total.ms += ms;
            total.count += 1;
            return;
        }
    }
    totals_.push_back(OpTime{graph, op, ms, 1});
}

std::vector<OpTime> OpProfile::take() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<OpTime> out;
    out.swap(totals_);
    return out;
}

std::string op_profile_name(const ggml_tensor * node) {
    const bool ours = node->op == GGML_OP_CUSTOM || node->op == GGML_OP_MAP_CUSTOM1 || node->op == GGML_OP_MAP_CUSTOM2 || node->op == GGML_OP_MAP_CUSTOM3;
    if (ours && std::strlen(node->name) > 0) return node->name;
    return ggml_op_desc(node);
}

ggml_status compute_node_by_node(ggml_backend_t backend, ggml_cgraph * graph, const char * graph_name, OpProfile & profile) {
    // A one-node graph in a context of its own, refilled for each node.
    const size_t overhead = ggml_graph_overhead_custom(1, false) + ggml_tensor_overhead();
    ggml_init_params params{overhead, nullptr, true};
    std::unique_ptr<ggml_context, decltype(&ggml_free)> ctx(ggml_init(params), ggml_free);
    if (!ctx) return GGML_STATUS_ALLOC_FAILED;
    ggml_cgraph * single = ggml_new_graph_custom(ctx.get(), 1, false);
    const int n = ggml_graph_n_nodes(graph);
    for (int i = 0; i < n; ++i) {
        ggml_tensor * node = ggml_graph_node(graph, i);
        ggml_graph_clear(single);
        ggml_graph_add_node(single, node);
        const auto start = std::chrono::steady_clock::now();
        const ggml_status status = ggml_backend_graph_compute(backend, single);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        if (status != GGML_STATUS_SUCCESS) return status;
        profile.add(graph_name, op_profile_name(node), ms);
    }
    return GGML_STATUS_SUCCESS;
}

}  // namespace moondream
