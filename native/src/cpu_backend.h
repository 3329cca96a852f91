// A ggml CPU backend (its own work buffer) that computes on the model's shared ComputePool, so
// every session and the vision encoder draw on one thread budget. Used by the text context and
// the vision encoder.
#pragma once

#include <atomic>
#include <memory>

#include "compute_pool.h"
#include "ggml-backend.h"
#include "ggml-cpp.h"
#include "moondream.h"

namespace moondream {

class CpuBackend {
public:
    static Result<std::unique_ptr<CpuBackend>> create(std::shared_ptr<ComputePool> pool);
    CpuBackend(const CpuBackend &) = delete;
    CpuBackend & operator=(const CpuBackend &) = delete;

    ggml_backend_t get() const { return backend_.get(); }
    int threads() const { return pool_->threads(); }

    // Runs `graph` when the pool is free; ERR_ABORTED when `abort` was raised before or during it.
    Status compute(ggml_cgraph * graph, const std::atomic<bool> * abort, const char * what) {
        return pool_->compute(backend_.get(), graph, abort, what);
    }

private:
    CpuBackend() = default;
    std::shared_ptr<ComputePool> pool_;  // outlives backend_ (declared first)
    ggml_backend_ptr backend_;
};

}  // namespace moondream
