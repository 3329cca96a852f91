#pragma once

#include <napi.h>

#include "moondream.h"

namespace moondream::addon {

// model.answer(imageId, rows: Float32Array | null, prefix: Int32Array, suffix: Int32Array,
//              options, onPiece?, abortFlag?) -> Promise<result>
Napi::Value AnswerBinding(const Napi::CallbackInfo & info);

// Reads generate options (maxTokens, sampling, stopTokenIds) from a JS object.
GenerateParams read_generate_params(Napi::Env env, Napi::Value value);

}  // namespace moondream::addon
