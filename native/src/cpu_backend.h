// ggml's CPU backend with a persistent thread pool of its own: workers stay alive between graph
// computes instead of being created per compute or forked per op (OpenMP). Shared by
// the text context and the vision encoder; also wires an abort flag into graph computes.
#pragma once

#include <atomic>
#include <memory>

#include "ggml-backend.h"
#include "ggml-cpp.h"
#include "ggml-cpu.h"
#include "moondream.h"

namespace moondream {

class CpuBackend {
public:
    static Result<std::unique_ptr<CpuBackend>> create(int n_threads);
    ~CpuBackend();
    CpuBackend(const CpuBackend &) = delete;
    CpuBackend & operator=(const CpuBackend &) = delete;

    ggml_backend_t get() const { return backend_.get(); }
    int threads() const { return n_threads_; }

    // Runs `graph`; ERR_ABORTED when `abort` was raised before or during the compute.
    Status compute(ggml_cgraph * graph, const std::atomic<bool> * abort, const char * what);

private:
    CpuBackend() = default;
    struct ThreadpoolFree {
        void operator()(ggml_threadpool * pool) const { ggml_threadpool_free(pool); }
    };
    int n_threads_ = 1;
    std::unique_ptr<ggml_threadpool, ThreadpoolFree> threadpool_;  // outlives backend_ (declared first)
    ggml_backend_ptr backend_;
};

}  // namespace moondream
