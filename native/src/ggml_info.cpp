#include <set>
#include <string_view>
#include <thread>

#include "cpu_backend_loader.h"
#include "ggml.h"
#include "moondream_tools.h"

namespace moondream {

GgmlInfo ggml_info() {
    GgmlInfo info;
    info.ggml_commit = MOONDREAM_GGML_COMMIT;
    info.ggml_version = ggml_version();
    // What the CPU backend reports: compiled-in support that this CPU also has. A portable build
    // reports the variant it loaded (cpu_backend_loader.h), so a capped process shows less.
    static constexpr const char * kFeatures[] = {"SSE3", "SSSE3", "AVX", "AVX_VNNI", "AVX2", "BMI2", "F16C",
                                                 "FMA", "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16", "AMX_INT8",
                                                 "NEON", "ARM_FMA", "DOTPROD", "MATMUL_INT8", "SVE", "LLAMAFILE"};
    std::set<std::string> present;
    Result<const CpuBackendApi *> cpu = cpu_backend_api();
    if (cpu.ok()) {
        for (const ggml_backend_feature * f = cpu.value()->get_features(cpu.value()->reg); f != nullptr && f->name != nullptr; ++f) {
            if (std::string_view(f->value) == "1") present.insert(f->name);
        }
    }
    for (const char * name : kFeatures) info.cpu_features.push_back({name, present.count(name) > 0});
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
