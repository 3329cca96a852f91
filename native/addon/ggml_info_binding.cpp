#include "bindings.h"
#include "moondream_tools.h"

namespace moondream::addon {

Napi::Value GgmlInfoBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const GgmlInfo facts = ggml_info();
    Napi::Object out = Napi::Object::New(env);
    out.Set("ggmlCommit", facts.ggml_commit);
    out.Set("ggmlVersion", facts.ggml_version);
    Napi::Object features = Napi::Object::New(env);
    for (const CpuFeature & feature : facts.cpu_features) features.Set(feature.name, feature.present);
    out.Set("cpuFeatures", features);
    out.Set("physicalCores", facts.physical_cores);
    out.Set("logicalCpus", facts.logical_cpus);
    out.Set("defaultThreads", facts.physical_cores);
    return out;
}

Napi::Value GgmlTypeTraitsBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const std::vector<GgmlTypeTraits> all = list_ggml_types();
    Napi::Array out = Napi::Array::New(env, all.size());
    for (size_t i = 0; i < all.size(); ++i) {
        Napi::Object traits = Napi::Object::New(env);
        traits.Set("id", all[i].id);
        traits.Set("name", all[i].name);
        traits.Set("blockSize", Napi::Number::New(env, double(all[i].block_size)));
        traits.Set("typeSize", Napi::Number::New(env, double(all[i].type_size)));
        traits.Set("quantized", all[i].quantized);
        out.Set(uint32_t(i), traits);
    }
    return out;
}

}  // namespace moondream::addon
