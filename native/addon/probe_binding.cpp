// probeMachine(threads, readBytes): the machine probe on a worker thread (it runs about a second).
#include <optional>

#include "bindings.h"
#include "moondream_tools.h"
#include "js_errors.h"

namespace moondream::addon {

namespace {

class ProbeWorker : public Napi::AsyncWorker {
public:
    ProbeWorker(Napi::Env env, int threads, size_t read_bytes)
        : Napi::AsyncWorker(env, "moondream:probe"), threads_(threads), read_bytes_(read_bytes), deferred_(env) {}

    Napi::Promise promise() const { return deferred_.Promise(); }

    void Execute() override { result_.emplace(probe_machine(threads_, read_bytes_)); }

    void OnOK() override {
        Napi::Env env = Env();
        if (!result_->ok()) {
            deferred_.Reject(make_js_error(env, result_->error()).Value());
            return;
        }
        const MachineProbe & probe = result_->value();
        Napi::Object out = Napi::Object::New(env);
        out.Set("threads", probe.threads);
        out.Set("readBytesPerSecond", probe.read_bytes_per_second);
        out.Set("fp32FlopsPerSecond", probe.fp32_flops_per_second);
        out.Set("fp32Isa", probe.fp32_isa);
        out.Set("int8OpsPerSecond", probe.int8_ops_per_second);
        out.Set("int8Isa", probe.int8_isa);
        deferred_.Resolve(out);
    }

private:
    int threads_;
    size_t read_bytes_;
    Napi::Promise::Deferred deferred_;
    std::optional<Result<MachineProbe>> result_;
};

}  // namespace

Napi::Value ProbeMachineBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
        throw invalid_argument(env, "probeMachine expects (threads, readBytes)");
    }
    const double read_bytes = info[1].As<Napi::Number>().DoubleValue();
    if (!(read_bytes >= 0 && read_bytes <= 64.0 * (1ull << 30))) throw invalid_argument(env, "probeMachine: readBytes out of range");
    auto * worker = new ProbeWorker(env, info[0].As<Napi::Number>().Int32Value(), size_t(read_bytes));
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
}

}  // namespace moondream::addon
