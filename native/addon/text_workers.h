#pragma once

#include <napi.h>

namespace moondream::addon {

// model.evaluate(tokens: Int32Array, abortFlag?) -> Promise<Float32Array>
Napi::Value EvaluateBinding(const Napi::CallbackInfo & info);
// model.generate(tokens: Int32Array, options, onToken?, abortFlag?) -> Promise<result>
Napi::Value GenerateBinding(const Napi::CallbackInfo & info);

}  // namespace moondream::addon
