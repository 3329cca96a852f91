// Which ggml CPU backend and which of our own kernels this process runs, and why: what
// `moondream-ggml system` prints. A portable build chooses its CPU backend at run time among
// variant libraries beside the addon; a native build has one built in.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "moondream.h"

namespace moondream {

struct CpuVariantCandidate {
    std::string name;     // "haswell", "skylakex", ...
    std::string file;     // the library's path
    int score = 0;        // ggml's own score for this CPU; 0 = this CPU lacks what it needs
    std::string verdict;  // "chosen", "not supported by this CPU", "above MOONDREAM_CPU_LEVEL=avx2", ...
};

struct CpuBackendReport {
    bool runtime_selected = false;  // a portable build's run-time choice, not a native build's built-in backend
    std::string variant;            // the variant in use; "native" for a native build
    std::string file;               // its library (empty for a native build)
    std::string cpu_level;          // MOONDREAM_CPU_LEVEL in effect; empty when unset
    std::string reason;             // why this one, in a sentence
    std::vector<CpuVariantCandidate> candidates;  // every variant library found, in name order
    std::optional<Error> error;     // set when no CPU backend could be loaded
};

// Loads the CPU backend if nothing has yet (once per process) and reports the choice.
CpuBackendReport cpu_backend_report();

struct KernelReport {
    std::string name;    // "vnni_matrix"
    bool chosen = false;
    std::string reason;
};

// Our own kernels that are chosen by CPUID at run time.
std::vector<KernelReport> kernel_reports();

}  // namespace moondream
