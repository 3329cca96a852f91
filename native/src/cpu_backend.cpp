#include "cpu_backend.h"

#include "ggml-cpu.h"

namespace moondream {

Result<std::unique_ptr<CpuBackend>> CpuBackend::create(std::shared_ptr<ComputePool> pool) {
    if (!pool) return Error{ErrorCode::internal, "no compute pool"};
    std::unique_ptr<CpuBackend> cpu(new CpuBackend());
    cpu->pool_ = std::move(pool);
    cpu->backend_.reset(ggml_backend_cpu_init());
    if (!cpu->backend_) return Error{ErrorCode::internal, "cannot start ggml's CPU backend"};
    return cpu;
}

}  // namespace moondream
