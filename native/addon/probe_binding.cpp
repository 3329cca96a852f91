// probeMachine(threads, readBytes): the machine probe on a worker thread (it runs about a second).
#include "async_work.h"
#include "bindings.h"
#include "moondream_tools.h"
#include "js_errors.h"

namespace moondream::addon {

namespace {

Napi::Value probe_to_js(Napi::Env env, MachineProbe & probe) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("threads", probe.threads);
    out.Set("readBytesPerSecond", probe.read_bytes_per_second);
    out.Set("fp32FlopsPerSecond", probe.fp32_flops_per_second);
    out.Set("fp32Isa", probe.fp32_isa);
    out.Set("int8OpsPerSecond", probe.int8_ops_per_second);
    out.Set("int8Isa", probe.int8_isa);
    out.Set("int8BlockOpsPerSecond", probe.int8_block_ops_per_second);
    out.Set("bf16FlopsPerSecond", probe.bf16_flops_per_second);
    return out;
}

}  // namespace

Napi::Value ProbeMachineBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
        throw invalid_argument(env, "probeMachine expects (threads, readBytes)");
    }
    const double read_bytes = info[1].As<Napi::Number>().DoubleValue();
    if (!(read_bytes >= 0 && read_bytes <= 64.0 * (1ull << 30))) throw invalid_argument(env, "probeMachine: readBytes out of range");
    const int threads = info[0].As<Napi::Number>().Int32Value();
    return PromiseWorker<MachineProbe>::queue(
        env, "moondream:probe", [threads, read_bytes]() { return probe_machine(threads, size_t(read_bytes)); }, probe_to_js);
}

}  // namespace moondream::addon
