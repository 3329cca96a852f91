#include "abort_flag.h"

#include "addon_data.h"

namespace moondream::addon {

Napi::Function AbortFlagWrap::define(Napi::Env env) {
    Napi::Function constructor = DefineClass(env, "NativeAbortFlag", {
        InstanceMethod<&AbortFlagWrap::Abort>("abort"),
        InstanceAccessor<&AbortFlagWrap::Aborted>("aborted"),
    });
    addon_data(env).abort_flag_constructor = Napi::Persistent(constructor);
    return constructor;
}

AbortFlagWrap::AbortFlagWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<AbortFlagWrap>(info) {}

Napi::Value AbortFlagWrap::Abort(const Napi::CallbackInfo & info) {
    flag_->store(true);
    return info.Env().Undefined();
}

Napi::Value AbortFlagWrap::Aborted(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), flag_->load()); }

std::shared_ptr<std::atomic<bool>> AbortFlagWrap::from(Napi::Value value) {
    if (value.IsObject()) {
        Napi::Object object = value.As<Napi::Object>();
        if (object.InstanceOf(addon_data(value.Env()).abort_flag_constructor.Value())) return Unwrap(object)->flag();
    }
    return std::make_shared<std::atomic<bool>>(false);
}

}  // namespace moondream::addon
