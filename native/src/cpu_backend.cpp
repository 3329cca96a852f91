#include "cpu_backend.h"

#include <string>

namespace moondream {

namespace {

bool abort_requested(void * data) {
    const auto * flag = static_cast<const std::atomic<bool> *>(data);
    return flag != nullptr && flag->load(std::memory_order_relaxed);
}

}  // namespace

Result<std::unique_ptr<CpuBackend>> CpuBackend::create(int n_threads) {
    std::unique_ptr<CpuBackend> cpu(new CpuBackend());
    cpu->n_threads_ = n_threads > 0 ? n_threads : physical_core_count();
    ggml_threadpool_params params = ggml_threadpool_params_default(cpu->n_threads_);
    // No spinning between computes: measured no slower here, and idle workers leave the cores to
    // the host process (and to the other model's pool) instead of burning them.
    params.poll = 0;
    cpu->threadpool_.reset(ggml_threadpool_new(&params));
    if (!cpu->threadpool_) return Error{ErrorCode::internal, "cannot start ggml's thread pool"};
    cpu->backend_.reset(ggml_backend_cpu_init());
    if (!cpu->backend_) return Error{ErrorCode::internal, "cannot start ggml's CPU backend"};
    ggml_backend_cpu_set_n_threads(cpu->backend_.get(), cpu->n_threads_);
    ggml_backend_cpu_set_threadpool(cpu->backend_.get(), cpu->threadpool_.get());
    return cpu;
}

CpuBackend::~CpuBackend() {
    backend_.reset();  // before the thread pool it uses
}

Status CpuBackend::compute(ggml_cgraph * graph, const std::atomic<bool> * abort, const char * what) {
    if (abort_requested(const_cast<std::atomic<bool> *>(abort))) return Error{ErrorCode::aborted, "aborted"};
    ggml_backend_cpu_set_abort_callback(backend_.get(), abort_requested, const_cast<std::atomic<bool> *>(abort));
    const ggml_status status = ggml_backend_graph_compute(backend_.get(), graph);
    ggml_backend_cpu_set_abort_callback(backend_.get(), nullptr, nullptr);
    if (status == GGML_STATUS_ABORTED || abort_requested(const_cast<std::atomic<bool> *>(abort))) {
        return Error{ErrorCode::aborted, "aborted"};
    }
    if (status != GGML_STATUS_SUCCESS) return Error{ErrorCode::internal, std::string("ggml failed to compute the ") + what};
    return std::nullopt;
}

}  // namespace moondream
