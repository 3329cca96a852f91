// NativeAbortFlag: a flag JS raises (from an AbortSignal) and native work polls between tokens
// and inside ggml's graph compute. Shared, so a worker keeps it alive after JS drops it.
#pragma once

#include <atomic>
#include <memory>

#include <napi.h>

namespace moondream::addon {

class AbortFlagWrap : public Napi::ObjectWrap<AbortFlagWrap> {
public:
    static Napi::Function define(Napi::Env env);
    explicit AbortFlagWrap(const Napi::CallbackInfo & info);

    std::shared_ptr<std::atomic<bool>> flag() const { return flag_; }

    // The flag of argument `value` if it is a NativeAbortFlag; otherwise a fresh, never-raised one.
    static std::shared_ptr<std::atomic<bool>> from(Napi::Value value);

private:
    Napi::Value Abort(const Napi::CallbackInfo & info);
    Napi::Value Aborted(const Napi::CallbackInfo & info);
    std::shared_ptr<std::atomic<bool>> flag_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace moondream::addon
