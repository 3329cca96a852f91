// NativeSession: the JS face of a moondream::Session (a KV cache, compute buffers and kept image
// prefixes on a shared model). Calls on one session run one at a time; calls on different
// sessions run at once, their graph computes taking turns on the model's compute pool.
#pragma once

#include <memory>
#include <mutex>

#include <napi.h>

#include "moondream.h"

namespace moondream::addon {

// Shared by the wrapper and the work in flight, so dispose() never frees a session under a
// running call: the memory goes when the last call on it returns.
class SessionHandle {
public:
    explicit SessionHandle(SessionPtr session);

    // Runs `work` with the session to itself, then refreshes the info snapshot.
    template <typename Work>
    auto run(Work && work) {
        std::lock_guard<std::mutex> lock(run_mutex_);
        auto result = work(*session_);
        refresh_info();
        return result;
    }

    // What the session held after its last call; never waits for a running one.
    SessionInfo info() const;

private:
    void refresh_info();

    std::mutex run_mutex_;
    SessionPtr session_;
    mutable std::mutex info_mutex_;
    SessionInfo info_;
};

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
public:
    static Napi::Function define(Napi::Env env);
    static Napi::Object wrap(Napi::Env env, SessionPtr session, int model_width);

    explicit SessionWrap(const Napi::CallbackInfo & info);

private:
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value Evaluate(const Napi::CallbackInfo & info);
    Napi::Value Generate(const Napi::CallbackInfo & info);
    Napi::Value Answer(const Napi::CallbackInfo & info);

    // The session, or a thrown ERR_DISPOSED.
    std::shared_ptr<SessionHandle> handle(Napi::Env env) const;

    std::shared_ptr<SessionHandle> handle_;
    int model_width_ = 0;
};

// Reads session options ({ contextSize, batchSize, kvCacheType, flashAttention, gelu,
// prefixCacheBytes }; TypeScript validated them).
SessionParams read_session_params(const Napi::Value & value);

}  // namespace moondream::addon
