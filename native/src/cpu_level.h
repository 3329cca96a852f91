// MOONDREAM_CPU_LEVEL: the highest x86-64 instruction-set level that ggml's CPU backend and our
// own kernels may use in this process. Unset (or "auto"), everything this CPU runs is allowed.
// With a cap, a portable build loads the best CPU variant at or below it and our AVX-512 kernel
// stays off below avx512; so `MOONDREAM_CPU_LEVEL=avx2` runs the AVX2 code on a machine that has
// AVX-512, which is how the AVX2 path is tested here.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "moondream.h"
#include "moondream_cpu.h"

namespace moondream {

// In increasing order; each level allows every one below it.
enum class CpuLevel { x64, sse42, avx, avx2, avx_vnni, avx512, amx };

const char * cpu_level_name(CpuLevel level);

// The environment variable as read once per process; level is empty when there is no cap.
struct CpuCap {
    std::optional<CpuLevel> level;
    bool allows(CpuLevel needed) const { return !level || needed <= *level; }
};

// ERR_INVALID_ARGUMENT naming the accepted values when the variable holds anything else.
const Result<CpuCap> & cpu_cap();

// The level one of ggml's x86 CPU variants needs ("haswell" -> avx2); empty for names ggml may
// add later or other architectures' variants, which only an uncapped process loads.
std::optional<CpuLevel> cpu_variant_level(std::string_view variant);

// Whether one of our own AVX-512 kernels runs in this process, and why: the CPU has the
// instructions it is compiled for (`cpu_has`, from CPUID; `features` names them, "AVX-512 F, BW and
// VNNI"), MOONDREAM_CPU_LEVEL allows avx512, and `disable_variable` (when given) is unset. `use`
// says what runs it when chosen.
KernelReport avx512_kernel_choice(const char * name, bool cpu_has, const char * features, const char * use,
                                  const char * disable_variable = nullptr);
// The same for a kernel that needs the level `needed`.
KernelReport kernel_choice(const char * name, bool cpu_has, const char * features, CpuLevel needed, const char * use,
                           const char * disable_variable = nullptr);

}  // namespace moondream
