#include "compute_pool.h"

#include <chrono>
#include <string>

namespace moondream {

namespace {

bool abort_requested(void * data) {
    const auto * flag = static_cast<const std::atomic<bool> *>(data);
    return flag != nullptr && flag->load(std::memory_order_relaxed);
}

// How often a queued caller looks at its abort flag.
constexpr auto kAbortPollInterval = std::chrono::milliseconds(10);

}  // namespace

Result<std::shared_ptr<ComputePool>> ComputePool::create(int n_threads, bool profile_ops) {
    if (n_threads < 0 || n_threads > 1024) return Error{ErrorCode::invalid_argument, "threads must be from 1 to 1024"};
    Result<const CpuBackendApi *> cpu = cpu_backend_api();
    if (!cpu.ok()) return cpu.error();
    std::shared_ptr<ComputePool> pool(new ComputePool());
    pool->cpu_ = cpu.value();
    pool->n_threads_ = n_threads > 0 ? n_threads : physical_core_count();
    if (profile_ops) pool->profile_ = std::make_unique<OpProfile>();
    ggml_threadpool_params params = ggml_threadpool_params_default(pool->n_threads_);
    // No spinning between computes: measured no slower here, and idle workers leave the cores to
    // the host process instead of burning them.
    params.poll = 0;
    pool->threadpool_ = std::unique_ptr<ggml_threadpool, ThreadpoolFree>(pool->cpu_->threadpool_new(&params), ThreadpoolFree{pool->cpu_});
    if (!pool->threadpool_) return Error{ErrorCode::internal, "cannot start ggml's thread pool"};
    return pool;
}

ComputePool::~ComputePool() = default;

Status ComputePool::acquire(const std::atomic<bool> * abort) {
    std::unique_lock<std::mutex> lock(mutex_);
    const uint64_t ticket = next_ticket_++;
    waiting_.insert(ticket);
    for (;;) {
        if (!busy_ && *waiting_.begin() == ticket) {
            waiting_.erase(waiting_.begin());
            busy_ = true;
            return std::nullopt;
        }
        if (abort_requested(const_cast<std::atomic<bool> *>(abort))) {
            waiting_.erase(ticket);
            turn_.notify_all();  // the next ticket may be first now
            return Error{ErrorCode::aborted, "aborted"};
        }
        turn_.wait_for(lock, kAbortPollInterval);
    }
}

void ComputePool::release() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        busy_ = false;
    }
    turn_.notify_all();
}

Status ComputePool::compute(ggml_backend_t backend, ggml_cgraph * graph, const std::atomic<bool> * abort, const char * what) {
    if (Status waited = acquire(abort)) return waited;
    // The backend is the caller's; the pool and the cores are shared. Both are set per compute
    // because a backend keeps whatever it was given last.
    cpu_->set_n_threads(backend, n_threads_);
    cpu_->set_threadpool(backend, threadpool_.get());
    cpu_->set_abort_callback(backend, abort_requested, const_cast<std::atomic<bool> *>(abort));
    const ggml_status status = profile_ ? compute_node_by_node(backend, graph, what, *profile_) : ggml_backend_graph_compute(backend, graph);
    cpu_->set_abort_callback(backend, nullptr, nullptr);
    release();
    if (status == GGML_STATUS_ABORTED || abort_requested(const_cast<std::atomic<bool> *>(abort))) {
        return Error{ErrorCode::aborted, "aborted"};
    }
    if (status != GGML_STATUS_SUCCESS) return Error{ErrorCode::internal, std::string("ggml failed to compute the ") + what};
    return std::nullopt;
}

std::vector<OpTime> ComputePool::take_op_profile() { return profile_ ? profile_->take() : std::vector<OpTime>{}; }

}  // namespace moondream
