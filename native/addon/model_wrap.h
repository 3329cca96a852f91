// NativeModel: the JS face of a loaded moondream::Model. Holds a shared_ptr so work already
// queued keeps the weights alive after dispose().
#pragma once

#include <memory>

#include <napi.h>

#include "moondream.h"
#include "session_slot.h"

namespace moondream::addon {

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
public:
    static Napi::Function define(Napi::Env env);
    static Napi::Object wrap(Napi::Env env, std::shared_ptr<Model> model, const SessionParams & params);

    explicit ModelWrap(const Napi::CallbackInfo & info);

    // The model, or a thrown ERR_DISPOSED.
    std::shared_ptr<Model> model(Napi::Env env) const;
    std::shared_ptr<SessionSlot> session_slot() const { return slot_; }

private:
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value Evaluate(const Napi::CallbackInfo & info);
    Napi::Value Generate(const Napi::CallbackInfo & info);
    Napi::Value EncodePixels(const Napi::CallbackInfo & info);
    Napi::Value TokenizerObject(const Napi::CallbackInfo & info);
    Napi::Value Answer(const Napi::CallbackInfo & info);

    std::shared_ptr<Model> model_;
    std::shared_ptr<SessionSlot> slot_;
};

Napi::Value LoadModelBinding(const Napi::CallbackInfo & info);

}  // namespace moondream::addon
