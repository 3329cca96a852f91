// The two shapes of native async work: a promise settled with one result (PromiseWorker), and a
// promise settled after a stream of pieces (StreamWorker). Every async method of the addon is one
// of them, so settling, error mapping and keeping JS inputs alive are written once.
//
// Compute functions run on a libuv worker thread and must not touch JS; conversions to JS run on
// the JS thread. Errors travel as moondream::Error values and reject with a coded JS error.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include <napi.h>

#include "js_errors.h"
#include "moondream.h"

namespace moondream::addon {

// JS objects (typed arrays whose memory the compute reads in place, the wrapper that owns the
// state) held until the work is settled.
using KeepAlive = std::vector<Napi::Object>;

namespace detail {

// A compute function's result, with anything it throws (allocation failures) turned into an Error.
template <typename T, typename Compute>
Result<T> run_guarded(Compute & compute) {
    try {
        return compute();
    } catch (const std::bad_alloc &) {
        return Error{ErrorCode::out_of_memory, "out of memory"};
    } catch (const std::exception & e) {
        return Error{ErrorCode::internal, e.what()};
    }
}

template <typename T>
void settle(Napi::Env env, const Napi::Promise::Deferred & deferred, Result<T> & result,
            const std::function<Napi::Value(Napi::Env, T &)> & to_js) {
    if (!result.ok()) {
        deferred.Reject(make_js_error(env, result.error()).Value());
        return;
    }
    try {
        deferred.Resolve(to_js(env, result.value()));
    } catch (const Napi::Error & e) {
        deferred.Reject(e.Value());
    }
}

inline std::vector<Napi::ObjectReference> persist(const KeepAlive & objects) {
    std::vector<Napi::ObjectReference> refs;
    for (const Napi::Object & object : objects) refs.push_back(Napi::Persistent(object));
    return refs;
}

}  // namespace detail

template <typename T>
class PromiseWorker final : public Napi::AsyncWorker {
public:
    using Compute = std::function<Result<T>()>;
    using ToJs = std::function<Napi::Value(Napi::Env, T &)>;
    // Runs after the promise is settled either way (state the wrapper must reset on the JS thread).
    using Settled = std::function<void()>;

    static Napi::Promise queue(Napi::Env env, const char * name, Compute compute, ToJs to_js, const KeepAlive & keep = {},
                               Settled settled = {}) {
        auto * worker = new PromiseWorker(env, name, std::move(compute), std::move(to_js), keep, std::move(settled));
        Napi::Promise promise = worker->deferred_.Promise();
        worker->Queue();  // node-addon-api deletes the worker when it completes
        return promise;
    }

    void Execute() override { result_.emplace(detail::run_guarded<T>(compute_)); }

    void OnOK() override {
        detail::settle(Env(), deferred_, *result_, to_js_);
        if (settled_) settled_();
    }

private:
    PromiseWorker(Napi::Env env, const char * name, Compute compute, ToJs to_js, const KeepAlive & keep, Settled settled)
        : Napi::AsyncWorker(env, name), deferred_(env), compute_(std::move(compute)), to_js_(std::move(to_js)),
          settled_(std::move(settled)), keep_(detail::persist(keep)) {}

    Napi::Promise::Deferred deferred_;
    Compute compute_;
    ToJs to_js_;
    Settled settled_;
    std::vector<Napi::ObjectReference> keep_;
    std::optional<Result<T>> result_;
};

// Pieces produced by the compute reach `callback` in order, through a thread-safe function, while
// the compute goes on (it never waits for JS). The promise is settled by that function's
// finalizer, which runs after every queued piece was delivered: a caller sees all pieces first.
template <typename T, typename Piece>
class StreamWorker final : public Napi::AsyncWorker {
public:
    using Emit = std::function<void(Piece)>;
    using Compute = std::function<Result<T>(const Emit &)>;
    using ToJs = std::function<Napi::Value(Napi::Env, T &)>;
    using PieceToJs = Napi::Value (*)(Napi::Env, const Piece &);

    // `callback` may be undefined: the pieces are then dropped.
    static Napi::Promise queue(Napi::Env env, const char * name, Napi::Value callback, Compute compute, ToJs to_js,
                               PieceToJs piece_to_js, const KeepAlive & keep = {}) {
        auto outcome = std::make_shared<Outcome>(env, std::move(to_js));
        Napi::Function deliver_to = callback.IsFunction() ? callback.As<Napi::Function>()
                                                          : Napi::Function::New(env, [](const Napi::CallbackInfo &) {});
        Napi::ThreadSafeFunction deliver = Napi::ThreadSafeFunction::New(env, deliver_to, name, 0, 1, [outcome](Napi::Env env) {
            if (!outcome->result) {
                Result<T> missing = Error{ErrorCode::internal, "native work ended without a result"};
                detail::settle(env, outcome->deferred, missing, outcome->to_js);
            } else {
                detail::settle(env, outcome->deferred, *outcome->result, outcome->to_js);
            }
        });
        auto * worker = new StreamWorker(env, name, std::move(compute), piece_to_js, deliver, outcome, keep);
        Napi::Promise promise = outcome->deferred.Promise();
        worker->Queue();  // node-addon-api deletes the worker when it completes
        return promise;
    }

    void Execute() override {
        const Emit emit = [this](Piece piece) {
            PieceToJs convert = piece_to_js_;
            deliver_.NonBlockingCall([convert, piece = std::move(piece)](Napi::Env env, Napi::Function callback) {
                callback.Call({convert(env, piece)});
            });
        };
        auto run = [&]() { return compute_(emit); };
        outcome_->result.emplace(detail::run_guarded<T>(run));
        deliver_.Release();  // the finalizer settles the promise once queued pieces are delivered
    }

    void OnOK() override {}

private:
    struct Outcome {
        Outcome(Napi::Env env, ToJs convert) : deferred(env), to_js(std::move(convert)) {}
        Napi::Promise::Deferred deferred;
        ToJs to_js;
        std::optional<Result<T>> result;
    };

    StreamWorker(Napi::Env env, const char * name, Compute compute, PieceToJs piece_to_js, Napi::ThreadSafeFunction deliver,
                 std::shared_ptr<Outcome> outcome, const KeepAlive & keep)
        : Napi::AsyncWorker(env, name), compute_(std::move(compute)), piece_to_js_(piece_to_js), deliver_(std::move(deliver)),
          outcome_(std::move(outcome)), keep_(detail::persist(keep)) {}

    Compute compute_;
    PieceToJs piece_to_js_;
    Napi::ThreadSafeFunction deliver_;
    std::shared_ptr<Outcome> outcome_;
    std::vector<Napi::ObjectReference> keep_;
};

}  // namespace moondream::addon
