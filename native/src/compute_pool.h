// The model's compute budget: one ggml thread pool of the model's thread count, shared by every
// session and by the vision encoder, and a first-come-first-served gate in front of it. However
// many sessions run at once, at most `threads()` compute threads are busy: graph computes take
// turns (a decode step of one session, then one of another), instead of each session starting a
// pool of its own and oversubscribing the cores.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>

#include "cpu_backend_loader.h"
#include "ggml-backend.h"
#include "moondream.h"
#include "op_profile.h"

namespace moondream {

class ComputePool {
public:
    // profile_ops: every graph runs node by node and its time is added up per op (op_profile.h).
    static Result<std::shared_ptr<ComputePool>> create(int n_threads, bool profile_ops = false);
    ~ComputePool();
    ComputePool(const ComputePool &) = delete;
    ComputePool & operator=(const ComputePool &) = delete;

    int threads() const { return n_threads_; }

    // Waits for its turn (first come, first served), then computes `graph` on `backend` with the
    // shared pool. ERR_ABORTED when `abort` is raised while waiting or computing: a caller queued
    // behind a long vision graph leaves the queue at once instead of waiting for its turn.
    Status compute(ggml_backend_t backend, ggml_cgraph * graph, const std::atomic<bool> * abort, const char * what);

    // The op profile so far, and a fresh start; empty unless created with profile_ops.
    std::vector<OpTime> take_op_profile();

private:
    ComputePool() = default;
    Status acquire(const std::atomic<bool> * abort);
    void release();

    struct ThreadpoolFree {
        const CpuBackendApi * cpu;  // set with the pool; value-initialized (null) before
        void operator()(ggml_threadpool * pool) const { cpu->threadpool_free(pool); }
    };
    const CpuBackendApi * cpu_ = nullptr;  // the process's CPU backend (cpu_backend_loader.h)
    int n_threads_ = 1;
    std::unique_ptr<OpProfile> profile_;  // null: graphs run whole
    std::unique_ptr<ggml_threadpool, ThreadpoolFree> threadpool_;

    std::mutex mutex_;
    std::condition_variable turn_;
    uint64_t next_ticket_ = 0;
    std::set<uint64_t> waiting_;  // tickets in arrival order
    bool busy_ = false;
};

}  // namespace moondream
