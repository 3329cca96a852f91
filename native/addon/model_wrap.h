// NativeModel: the JS face of a loaded moondream::Model. Holds a shared_ptr, so sessions and work
// already queued keep the weights alive after dispose().
#pragma once

#include <memory>

#include <napi.h>

#include "moondream.h"

namespace moondream::addon {

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
public:
    static Napi::Function define(Napi::Env env);
    static Napi::Object wrap(Napi::Env env, std::shared_ptr<Model> model);

    explicit ModelWrap(const Napi::CallbackInfo & info);

private:
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value EncodePixels(const Napi::CallbackInfo & info);
    Napi::Value TokenizerObject(const Napi::CallbackInfo & info);
    Napi::Value CreateSession(const Napi::CallbackInfo & info);
    Napi::Value TakeOpProfile(const Napi::CallbackInfo & info);

    // The model, or a thrown ERR_DISPOSED.
    std::shared_ptr<Model> model(Napi::Env env) const;

    std::shared_ptr<Model> model_;
};

// loadModel(textPath, mmprojPath, { threads }) -> Promise<NativeModel>
Napi::Value LoadModelBinding(const Napi::CallbackInfo & info);

}  // namespace moondream::addon
