// The JS Tokenizer class around moondream::Tokenizer. An instance starts empty; load(path) reads
// the vocabulary on a libuv worker thread and resolves once it is in place. Everything else is
// synchronous: tokenizing a prompt takes microseconds, far less than a thread hop.
#include <cstring>

#include "addon_data.h"
#include "async_work.h"
#include "bindings.h"
#include "js_errors.h"
#include "moondream_testing.h"

namespace moondream::addon {

namespace {

class TokenizerWrap : public Napi::ObjectWrap<TokenizerWrap> {
public:
    static Napi::Function Define(Napi::Env env) {
        Napi::Function constructor = DefineClass(env, "Tokenizer", {
            InstanceMethod<&TokenizerWrap::Load>("load"),
            InstanceMethod<&TokenizerWrap::Tokenize>("tokenize"),
            InstanceMethod<&TokenizerWrap::Detokenize>("detokenize"),
            InstanceMethod<&TokenizerWrap::DetokenizePieces>("detokenizePieces"),
            InstanceMethod<&TokenizerWrap::AnswerPieces>("answerPieces"),
            InstanceMethod<&TokenizerWrap::Dispose>("dispose"),
            InstanceAccessor<&TokenizerWrap::VocabSize>("vocabSize"),
        });
        addon_data(env).tokenizer_constructor = Napi::Persistent(constructor);
        return constructor;
    }

    explicit TokenizerWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<TokenizerWrap>(info) {}

    // A tokenizer that is already loaded (the model's).
    void adopt(Tokenizer tokenizer) { tokenizer_ = std::move(tokenizer); }

private:
    Napi::Value Load(const Napi::CallbackInfo & info);

    Napi::Value Tokenize(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        const Tokenizer & tokenizer = loaded(env);
        if (info.Length() < 1 || !info[0].IsString()) throw invalid_argument(env, "tokenize expects a string");
        // N-API converts the JS string to UTF-8 with lone surrogates as U+FFFD.
        const std::string text = info[0].As<Napi::String>().Utf8Value();
        const std::vector<int32_t> ids = tokenizer.tokenize(text);
        Napi::Uint32Array out = Napi::Uint32Array::New(env, ids.size());
        if (!ids.empty()) std::memcpy(out.Data(), ids.data(), ids.size() * sizeof(int32_t));
        return out;
    }

    Napi::Value Detokenize(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        const Tokenizer & tokenizer = loaded(env);
        const std::vector<int32_t> ids = read_ids(info, tokenizer.vocab_size());
        return Napi::String::New(env, tokenizer.detokenize(ids, skip_special(info)));
    }

    // What a StreamingDetokenizer emits for each id (the end of the stream added to the last).
    Napi::Value DetokenizePieces(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        const Tokenizer & tokenizer = loaded(env);
        const std::vector<int32_t> ids = read_ids(info, tokenizer.vocab_size());
        StreamingDetokenizer stream(tokenizer, skip_special(info));
        Napi::Array out = Napi::Array::New(env, ids.size());
        for (size_t i = 0; i < ids.size(); ++i) {
            std::string piece = stream.push(ids[i]);
            if (i + 1 == ids.size()) piece += stream.finish();
            out.Set(uint32_t(i), Napi::String::New(env, piece));
        }
        return out;
    }

    // What an answer streams for these generated ids: the pieces and the final answer.
    Napi::Value AnswerPieces(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        const Tokenizer & tokenizer = loaded(env);
        const std::vector<int32_t> ids = read_ids(info, tokenizer.vocab_size());
        std::vector<std::string> suffixes;
        if (info.Length() > 1 && info[1].IsArray()) {
            Napi::Array array = info[1].As<Napi::Array>();
            for (uint32_t i = 0; i < array.Length(); ++i) suffixes.push_back(array.Get(i).ToString().Utf8Value());
        }
        const moondream::AnswerPieces streamed = stream_answer_pieces(tokenizer, ids, suffixes);
        Napi::Array pieces = Napi::Array::New(env, streamed.pieces.size());
        for (size_t i = 0; i < streamed.pieces.size(); ++i) pieces.Set(uint32_t(i), streamed.pieces[i]);
        Napi::Object out = Napi::Object::New(env);
        out.Set("pieces", pieces);
        out.Set("answer", streamed.answer);
        return out;
    }

    Napi::Value Dispose(const Napi::CallbackInfo & info) {
        disposed_ = true;
        tokenizer_.reset();
        return info.Env().Undefined();
    }

    Napi::Value VocabSize(const Napi::CallbackInfo & info) {
        return Napi::Number::New(info.Env(), loaded(info.Env()).vocab_size());
    }

    const Tokenizer & loaded(Napi::Env env) const {
        if (disposed_) throw make_js_error(env, Error{ErrorCode::disposed, "The tokenizer has been disposed"});
        if (!tokenizer_) throw invalid_argument(env, "The tokenizer has no vocabulary yet: await load(path) first");
        return *tokenizer_;
    }

    // ids: an Int32Array or Uint32Array (TypeScript converts number[]), every id in range.
    static std::vector<int32_t> read_ids(const Napi::CallbackInfo & info, int32_t vocab_size) {
        Napi::Env env = info.Env();
        if (info.Length() < 1 || !info[0].IsTypedArray()) throw invalid_argument(env, "Expected an Int32Array of token ids");
        Napi::TypedArray array = info[0].As<Napi::TypedArray>();
        const napi_typedarray_type type = array.TypedArrayType();
        if (type != napi_int32_array && type != napi_uint32_array) {
            throw invalid_argument(env, "Expected an Int32Array or Uint32Array of token ids");
        }
        std::vector<int32_t> ids(array.ElementLength());
        if (!ids.empty()) {
            const auto * data = static_cast<const char *>(array.ArrayBuffer().Data()) + array.ByteOffset();
            std::memcpy(ids.data(), data, ids.size() * sizeof(int32_t));
        }
        for (size_t i = 0; i < ids.size(); ++i) {
            // A uint32 above INT32_MAX reads as negative: out of range either way.
            if (ids[i] < 0 || ids[i] >= vocab_size) {
                const std::string shown = type == napi_uint32_array ? std::to_string(uint32_t(ids[i])) : std::to_string(ids[i]);
                throw invalid_argument(env, "Token id " + shown +
                                                " at index " + std::to_string(i) + " is outside the vocabulary (0 to " +
                                                std::to_string(vocab_size - 1) + ")");
            }
        }
        return ids;
    }

    static bool skip_special(const Napi::CallbackInfo & info) {
        return info.Length() >= 2 && info[1].ToBoolean().Value();
    }

    std::optional<Tokenizer> tokenizer_;
    bool loading_ = false;
    bool disposed_ = false;
};

Napi::Value TokenizerWrap::Load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (disposed_) throw make_js_error(env, Error{ErrorCode::disposed, "The tokenizer has been disposed"});
    if (loading_ || tokenizer_) throw invalid_argument(env, "The tokenizer is already loaded or loading");
    if (info.Length() < 1 || !info[0].IsString()) throw invalid_argument(env, "load expects a file path string");
    loading_ = true;
    std::string path = info[0].As<Napi::String>().Utf8Value();
    // The wrapper's JS object is kept alive until the load is settled, so `this` stays valid.
    return PromiseWorker<Tokenizer>::queue(
        env, "moondream:Tokenizer.load", [path]() { return Tokenizer::from_gguf_file(path); },
        [this](Napi::Env env, Tokenizer & tokenizer) -> Napi::Value {
            if (disposed_) throw make_js_error(env, Error{ErrorCode::disposed, "The tokenizer was disposed while loading"});
            tokenizer_ = std::move(tokenizer);
            return env.Undefined();
        },
        {info.This().As<Napi::Object>()}, [this]() { loading_ = false; });
}

}  // namespace

Napi::Function TokenizerClass(Napi::Env env) { return TokenizerWrap::Define(env); }

Napi::Object NewTokenizerObject(Napi::Env env, Tokenizer tokenizer) {
    Napi::Object object = addon_data(env).tokenizer_constructor.New({});
    TokenizerWrap::Unwrap(object)->adopt(std::move(tokenizer));
    return object;
}

}  // namespace moondream::addon
