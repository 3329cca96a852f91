#include <thread>

#include "ggml-cpu.h"
#include "ggml.h"
#include "moondream_tools.h"

namespace moondream {

GgmlInfo ggml_info() {
    GgmlInfo info;
    info.ggml_commit = MOONDREAM_GGML_COMMIT;
    info.ggml_version = ggml_version();
    // What the CPU backend reports: compiled-in support that this CPU also has.
    info.cpu_features = {
        {"SSE3", ggml_cpu_has_sse3() != 0},
        {"SSSE3", ggml_cpu_has_ssse3() != 0},
        {"AVX", ggml_cpu_has_avx() != 0},
        {"AVX_VNNI", ggml_cpu_has_avx_vnni() != 0},
        {"AVX2", ggml_cpu_has_avx2() != 0},
        {"BMI2", ggml_cpu_has_bmi2() != 0},
        {"F16C", ggml_cpu_has_f16c() != 0},
        {"FMA", ggml_cpu_has_fma() != 0},
        {"AVX512", ggml_cpu_has_avx512() != 0},
        {"AVX512_VBMI", ggml_cpu_has_avx512_vbmi() != 0},
        {"AVX512_VNNI", ggml_cpu_has_avx512_vnni() != 0},
        {"AVX512_BF16", ggml_cpu_has_avx512_bf16() != 0},
        {"AMX_INT8", ggml_cpu_has_amx_int8() != 0},
        {"NEON", ggml_cpu_has_neon() != 0},
        {"ARM_FMA", ggml_cpu_has_arm_fma() != 0},
        {"DOTPROD", ggml_cpu_has_dotprod() != 0},
        {"MATMUL_INT8", ggml_cpu_has_matmul_int8() != 0},
        {"SVE", ggml_cpu_has_sve() != 0},
        {"LLAMAFILE", ggml_cpu_has_llamafile() != 0},
    };
    info.physical_cores = physical_core_count();
    const unsigned logical = std::thread::hardware_concurrency();
    info.logical_cpus = logical > 0 ? static_cast<int>(logical) : info.physical_cores;
    return info;
}

std::vector<GgmlTypeTraits> list_ggml_types() {
    std::vector<GgmlTypeTraits> out;
    for (int id = 0; id < GGML_TYPE_COUNT; ++id) {
        const ggml_type_traits * traits = ggml_get_type_traits(static_cast<ggml_type>(id));
        if (traits == nullptr || traits->blck_size == 0 || traits->type_size == 0) continue;  // removed ids
        out.push_back({id, traits->type_name, traits->blck_size, traits->type_size, traits->is_quantized});
    }
    return out;
}

}  // namespace moondream
