#include "bindings.h"
#include "moondream_cpu.h"

namespace moondream::addon {

Napi::Value CpuBackendBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const CpuBackendReport report = cpu_backend_report();
    Napi::Object out = Napi::Object::New(env);
    out.Set("runtimeSelected", report.runtime_selected);
    out.Set("variant", report.variant);
    out.Set("file", report.file);
    out.Set("cpuLevel", report.cpu_level);
    out.Set("reason", report.reason);
    Napi::Array candidates = Napi::Array::New(env, report.candidates.size());
    for (size_t i = 0; i < report.candidates.size(); ++i) {
        const CpuVariantCandidate & c = report.candidates[i];
        Napi::Object item = Napi::Object::New(env);
        item.Set("name", c.name);
        item.Set("file", c.file);
        item.Set("score", c.score);
        item.Set("verdict", c.verdict);
        candidates.Set(uint32_t(i), item);
    }
    out.Set("candidates", candidates);
    if (report.error) {
        Napi::Object error = Napi::Object::New(env);
        error.Set("code", error_code_name(report.error->code));
        error.Set("message", report.error->message);
        out.Set("error", error);
    } else {
        out.Set("error", env.Null());
    }
    const std::vector<KernelReport> kernels = kernel_reports();
    Napi::Array list = Napi::Array::New(env, kernels.size());
    for (size_t i = 0; i < kernels.size(); ++i) {
        Napi::Object item = Napi::Object::New(env);
        item.Set("name", kernels[i].name);
        item.Set("chosen", kernels[i].chosen);
        item.Set("reason", kernels[i].reason);
        list.Set(uint32_t(i), item);
    }
    out.Set("kernels", list);
    return out;
}

}  // namespace moondream::addon
