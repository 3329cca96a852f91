#include "cpu_level.h"

#include <cstdlib>
#include <iterator>

namespace moondream {

namespace {

constexpr const char * kEnvironmentVariable = "MOONDREAM_CPU_LEVEL";
constexpr const char * kLevelNames[] = {"x64", "sse42", "avx", "avx2", "avx_vnni", "avx512", "amx"};

struct VariantLevel {
    std::string_view variant;
    CpuLevel level;
};

// ggml's GGML_CPU_ALL_VARIANTS list for x86 (vendor/ggml/src/CMakeLists.txt), by what each needs
// beyond the level below: alderlake is AVX2 + AVX-VNNI, sapphirerapids adds AMX to AVX-512.
constexpr VariantLevel kX86Variants[] = {
    {"x64", CpuLevel::x64},           {"sse42", CpuLevel::sse42},         {"sandybridge", CpuLevel::avx},
    {"ivybridge", CpuLevel::avx},     {"piledriver", CpuLevel::avx},      {"haswell", CpuLevel::avx2},
    {"alderlake", CpuLevel::avx_vnni}, {"skylakex", CpuLevel::avx512},    {"cannonlake", CpuLevel::avx512},
    {"cascadelake", CpuLevel::avx512}, {"icelake", CpuLevel::avx512},     {"cooperlake", CpuLevel::avx512},
    {"zen4", CpuLevel::avx512},       {"sapphirerapids", CpuLevel::amx},
};

Result<CpuCap> read_cap() {
    const char * value = std::getenv(kEnvironmentVariable);
    if (value == nullptr || *value == '\0' || std::string_view(value) == "auto") return CpuCap{};
    for (size_t i = 0; i < std::size(kLevelNames); ++i) {
        if (std::string_view(value) == kLevelNames[i]) return CpuCap{static_cast<CpuLevel>(i)};
    }
    std::string accepted;
    for (const char * name : kLevelNames) accepted += std::string(accepted.empty() ? "" : ", ") + name;
    return Error{ErrorCode::invalid_argument, std::string("Expected auto, ") + accepted + " for " + kEnvironmentVariable +
                                                  " but received \"" + value + "\""};
}

}  // namespace

const char * cpu_level_name(CpuLevel level) { return kLevelNames[static_cast<int>(level)]; }

const Result<CpuCap> & cpu_cap() {
    // Read once: the CPU backend it chooses is loaded once per process.
    static const Result<CpuCap> cap = read_cap();
    return cap;
}

KernelReport avx512_kernel_choice(const char * name, bool cpu_has, const char * features, const char * use,
                                  const char * disable_variable) {
    return kernel_choice(name, cpu_has, features, CpuLevel::avx512, use, disable_variable);
}

KernelReport kernel_choice(const char * name, bool cpu_has, const char * features, CpuLevel needed, const char * use,
                           const char * disable_variable) {
    KernelReport report;
    report.name = name;
    const Result<CpuCap> & cap = cpu_cap();
    if (!cpu_has) {
        report.reason = std::string("this CPU lacks one of ") + features + ", so ggml's own kernels run";
    } else if (!cap.ok()) {
        report.reason = cap.error().message;
    } else if (!cap.value().allows(needed)) {
        report.reason = std::string(kEnvironmentVariable) + "=" + cpu_level_name(*cap.value().level) + " is below " +
                        cpu_level_name(needed) + ", so ggml's own kernels run";
    } else if (disable_variable != nullptr && std::getenv(disable_variable) != nullptr) {
        report.reason = std::string(disable_variable) + " is set, so ggml's own kernels run";
    } else {
        report.chosen = true;
        report.reason = std::string("this CPU has ") + features + ": " + use;
    }
    return report;
}

std::optional<CpuLevel> cpu_variant_level(std::string_view variant) {
    for (const VariantLevel & entry : kX86Variants) {
        if (entry.variant == variant) return entry.level;
    }
    return std::nullopt;
}

}  // namespace moondream
