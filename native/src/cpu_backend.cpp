#include "cpu_backend.h"

#include "cpu_backend_loader.h"

namespace moondream {

Result<std::unique_ptr<CpuBackend>> CpuBackend::create(std::shared_ptr<ComputePool> pool) {
    if (!pool) return Error{ErrorCode::internal, "no compute pool"};
    Result<const CpuBackendApi *> api = cpu_backend_api();
    if (!api.ok()) return api.error();
    std::unique_ptr<CpuBackend> cpu(new CpuBackend());
    cpu->pool_ = std::move(pool);
    cpu->backend_.reset(api.value()->init_backend());
    if (!cpu->backend_) return Error{ErrorCode::internal, "cannot start ggml's CPU backend"};
    return cpu;
}

}  // namespace moondream
