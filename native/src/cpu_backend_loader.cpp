#include "cpu_backend_loader.h"

#include <optional>
#include <string>

#include "cpu_level.h"
#include "decode_attention.h"
#include "f16_matrix.h"
#include "gelu_table.h"
#include "prefill_attention.h"
#include "log_capture.h"
#include "moondream_cpu.h"
#include "vision_attention.h"
#include "amx_matrix.h"
#include "vnni_matrix.h"

#ifdef MOONDREAM_CPU_BACKEND_DL
#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#endif

namespace moondream {

namespace {

struct LoadState {
    std::optional<CpuBackendApi> api;
    CpuBackendReport report;
};

template <typename Fn>
Fn proc(ggml_backend_reg_t reg, const char * name) {
    return reinterpret_cast<Fn>(ggml_backend_reg_get_proc_address(reg, name));
}

// Everything but the type traits comes from the registry, as ggml offers it to dynamic backends.
Status fill_from_registry(ggml_backend_reg_t reg, CpuBackendApi & api) {
    api.reg = reg;
    api.device = ggml_backend_reg_dev_count(reg) > 0 ? ggml_backend_reg_dev_get(reg, 0) : nullptr;
    api.set_n_threads = proc<ggml_backend_set_n_threads_t>(reg, "ggml_backend_set_n_threads");
    api.set_abort_callback = proc<ggml_backend_set_abort_callback_t>(reg, "ggml_backend_set_abort_callback");
    api.set_threadpool = proc<decltype(api.set_threadpool)>(reg, "ggml_backend_cpu_set_threadpool");
    api.threadpool_new = proc<decltype(api.threadpool_new)>(reg, "ggml_threadpool_new");
    api.threadpool_free = proc<decltype(api.threadpool_free)>(reg, "ggml_threadpool_free");
    api.get_features = proc<ggml_backend_get_features_t>(reg, "ggml_backend_get_features");
    if (api.device == nullptr || api.set_n_threads == nullptr || api.set_abort_callback == nullptr || api.set_threadpool == nullptr ||
        api.threadpool_new == nullptr || api.threadpool_free == nullptr || api.get_features == nullptr) {
        return Error{ErrorCode::internal, std::string("ggml's CPU backend (") + ggml_backend_reg_name(reg) +
                                              ") lacks a device or a function this build needs"};
    }
    return std::nullopt;
}

std::string cap_text(const CpuCap & cap) { return cap.level ? cpu_level_name(*cap.level) : ""; }

#ifdef MOONDREAM_CPU_BACKEND_DL

namespace fs = std::filesystem;

constexpr std::string_view kVariantPrefix = "libggml-cpu-";
constexpr std::string_view kVariantSuffix = ".so";

// The folder of the library this code is linked into: the .node file's, where the variants are.
std::optional<fs::path> addon_directory() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<const void *>(&addon_directory), &info) == 0 || info.dli_fname == nullptr) return std::nullopt;
    return fs::path(info.dli_fname).parent_path();
}

// ggml's own score for this CPU (0: it lacks an instruction the variant needs), as ggml's
// ggml_backend_load_best computes it; the library is unloaded again.
std::optional<int> variant_score(const fs::path & file, std::string & failure) {
    void * handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char * why = dlerror();
        failure = std::string("cannot be loaded: ") + (why ? why : "unknown error");
        return std::nullopt;
    }
    using ScoreFn = int (*)();
    auto score = reinterpret_cast<ScoreFn>(dlsym(handle, "ggml_backend_score"));
    std::optional<int> out;
    if (score == nullptr) {
        failure = "not a ggml CPU variant (no ggml_backend_score)";
    } else {
        out = score();
    }
    dlclose(handle);
    return out;
}

LoadState load_backend() {
    LogCapture log;  // ggml logs each load on stderr; its errors belong in ours
    LoadState state;
    CpuBackendReport & report = state.report;
    report.runtime_selected = true;
    const Result<CpuCap> & cap = cpu_cap();
    if (!cap.ok()) {
        report.error = cap.error();
        return state;
    }
    report.cpu_level = cap_text(cap.value());

    const std::optional<fs::path> dir = addon_directory();
    if (!dir) {
        report.error = Error{ErrorCode::internal, "cannot find the folder of the moondream-ggml addon"};
        return state;
    }
    std::error_code ec;
    for (const fs::directory_entry & entry : fs::directory_iterator(*dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() <= kVariantPrefix.size() + kVariantSuffix.size() || name.compare(0, kVariantPrefix.size(), kVariantPrefix) != 0 ||
            name.compare(name.size() - kVariantSuffix.size(), kVariantSuffix.size(), kVariantSuffix) != 0) {
            continue;
        }
        CpuVariantCandidate candidate;
        candidate.name = name.substr(kVariantPrefix.size(), name.size() - kVariantPrefix.size() - kVariantSuffix.size());
        candidate.file = entry.path().string();
        report.candidates.push_back(std::move(candidate));
    }
    std::sort(report.candidates.begin(), report.candidates.end(),
              [](const CpuVariantCandidate & a, const CpuVariantCandidate & b) { return a.name < b.name; });

    CpuVariantCandidate * best = nullptr;
    size_t runnable = 0;
    for (CpuVariantCandidate & candidate : report.candidates) {
        std::string failure;
        const std::optional<int> score = variant_score(candidate.file, failure);
        if (!score) {
            candidate.verdict = failure;
            continue;
        }
        candidate.score = *score;
        if (candidate.score <= 0) {
            candidate.verdict = "not supported by this CPU";
            continue;
        }
        ++runnable;
        const std::optional<CpuLevel> level = cpu_variant_level(candidate.name);
        if (cap.value().level && !level) {
            candidate.verdict = "of no known level, so skipped under MOONDREAM_CPU_LEVEL=" + report.cpu_level;
            continue;
        }
        if (level && !cap.value().allows(*level)) {
            candidate.verdict = "above MOONDREAM_CPU_LEVEL=" + report.cpu_level;
            continue;
        }
        candidate.verdict = "runs here, lower score";
        if (best == nullptr || candidate.score > best->score) best = &candidate;
    }
    if (best == nullptr) {
        std::string message = report.candidates.empty()
                                  ? "no ggml CPU backend libraries (" + std::string(kVariantPrefix) + "*.so) beside the addon in " + dir->string()
                                  : "none of the " + std::to_string(report.candidates.size()) + " ggml CPU backend libraries in " + dir->string() +
                                        " runs on this CPU" + (report.cpu_level.empty() ? "" : " at MOONDREAM_CPU_LEVEL=" + report.cpu_level);
        report.error = Error{ErrorCode::internal, message};
        return state;
    }
    best->verdict = "chosen";
    report.variant = best->name;
    report.file = best->file;
    report.reason = report.cpu_level.empty()
                        ? "the highest-scoring of the " + std::to_string(runnable) + " variants this CPU runs"
                        : "the highest-scoring variant at or below MOONDREAM_CPU_LEVEL=" + report.cpu_level + " (" +
                              std::to_string(runnable) + " run on this CPU)";

    ggml_backend_reg_t reg = ggml_backend_load(best->file.c_str());
    if (reg == nullptr) {
        report.error = Error{ErrorCode::internal, "ggml could not load its CPU backend " + best->file + ": " + log.text()};
        return state;
    }
    CpuBackendApi api;
    if (Status filled = fill_from_registry(reg, api)) {
        report.error = *filled;
        return state;
    }
    // Type traits have no registry entry; the library exports them. This handle keeps a
    // reference the registry also holds, for the life of the process.
    void * handle = dlopen(best->file.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    api.type_traits = handle ? reinterpret_cast<decltype(api.type_traits)>(dlsym(handle, "ggml_get_type_traits_cpu")) : nullptr;
    if (api.type_traits == nullptr) {
        report.error = Error{ErrorCode::internal, best->file + " does not export ggml_get_type_traits_cpu"};
        return state;
    }
    state.api = api;
    return state;
}

#else  // the native build: the CPU backend is linked in and registered by ggml itself

LoadState load_backend() {
    LogCapture log;  // keeps whatever ggml logs while it starts its CPU backend off stderr
    LoadState state;
    CpuBackendReport & report = state.report;
    report.variant = "native";
    report.reason = "built into this binary for the CPU it was compiled on (a native build)";
    const Result<CpuCap> & cap = cpu_cap();
    if (!cap.ok()) {
        report.error = cap.error();
        return state;
    }
    report.cpu_level = cap_text(cap.value());
    if (!report.cpu_level.empty()) report.reason += "; MOONDREAM_CPU_LEVEL caps only our own kernels here";
    ggml_backend_dev_t device = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (device == nullptr) {
        report.error = Error{ErrorCode::internal, "ggml has no CPU backend"};
        return state;
    }
    CpuBackendApi api;
    if (Status filled = fill_from_registry(ggml_backend_dev_backend_reg(device), api)) {
        report.error = *filled;
        return state;
    }
    api.type_traits = &ggml_get_type_traits_cpu;
    state.api = api;
    return state;
}

#endif

// One backend per process: ggml's registry is process-wide, and loading a second variant
// would register a second CPU device.
const LoadState & load_state() {
    static const LoadState state = load_backend();
    return state;
}

}  // namespace

Result<const CpuBackendApi *> cpu_backend_api() {
    const LoadState & state = load_state();
    if (!state.api) return *state.report.error;
    return &*state.api;
}

CpuBackendReport cpu_backend_report() { return load_state().report; }

std::vector<KernelReport> kernel_reports() {
    return {VnniMatrix::cpu_choice(), VnniMatrix::avx2_cpu_choice(), amx::cpu_choice(), F16Matrix::cpu_choice(), F16Matrix::avx2_cpu_choice(), F16Matrix::bf16_cpu_choice(), vision_attention_cpu_choice(), vision_attention_avx2_cpu_choice(), decode_attention_cpu_choice(), decode_attention_avx2_cpu_choice(), prefill_attention_cpu_choice(), prefill_attention_avx2_cpu_choice(), gelu_table_cpu_choice()};
}

}  // namespace moondream
