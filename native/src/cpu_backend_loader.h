// ggml's CPU backend, wherever it lives. A native build links it in; a portable build loads the
// best of the libggml-cpu-<variant>.so libraries beside the addon that this CPU runs (and that
// MOONDREAM_CPU_LEVEL allows) on first use. Either way the rest of the code reaches the backend's
// extra functions through this table, filled from ggml's registry (ggml_backend_reg_get_proc_address),
// so both builds run the same calls.
#pragma once

#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "moondream.h"

namespace moondream {

struct CpuBackendApi {
    ggml_backend_reg_t reg = nullptr;
    ggml_backend_dev_t device = nullptr;
    ggml_backend_set_n_threads_t set_n_threads = nullptr;
    ggml_backend_set_abort_callback_t set_abort_callback = nullptr;
    decltype(&ggml_backend_cpu_set_threadpool) set_threadpool = nullptr;
    decltype(&ggml_threadpool_new) threadpool_new = nullptr;
    decltype(&ggml_threadpool_free) threadpool_free = nullptr;
    decltype(&ggml_get_type_traits_cpu) type_traits = nullptr;
    ggml_backend_get_features_t get_features = nullptr;

    // A new CPU backend (its own work buffer), or null.
    ggml_backend_t init_backend() const { return ggml_backend_dev_init(device, nullptr); }
};

// Loads the backend on first call (thread safe); the table lives until the process exits.
Result<const CpuBackendApi *> cpu_backend_api();

}  // namespace moondream
