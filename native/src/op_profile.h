// Where a graph's time goes, op by op: when a model is loaded with LoadParams::profile_ops, its
// compute pool runs every graph one node at a time and adds each node's wall time to a total per
// (graph, op). Costs a thread-pool wake-up per node (a few microseconds) and changes no result:
// the nodes run in the graph's order on the same threads, with the same kernels.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "ggml-backend.h"
#include "moondream.h"

namespace moondream {

class OpProfile {
public:
    void add(const std::string & graph, const std::string & op, double ms);
    // The totals so far, in first-seen order, and a fresh start.
    std::vector<OpTime> take();

private:
    std::mutex mutex_;
    std::vector<OpTime> totals_;
};

// What a node is called in a profile: ggml's op name, or for our own kernels (custom ops) the name
// their builder gave the node.
std::string op_profile_name(const ggml_tensor * node);

// Computes `graph` on `backend` node by node, adding each node's time to `profile` under `graph_name`.
ggml_status compute_node_by_node(ggml_backend_t backend, ggml_cgraph * graph, const char * graph_name, OpProfile & profile);

}  // namespace moondream
