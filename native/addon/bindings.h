// The functions the addon exports; each lives in its own *_binding.cpp.
#pragma once

#include <napi.h>

#include "moondream.h"

namespace moondream::addon {

Napi::Value GgmlInfoBinding(const Napi::CallbackInfo & info);
Napi::Value GgmlTypeTraitsBinding(const Napi::CallbackInfo & info);
Napi::Value CpuBackendBinding(const Napi::CallbackInfo & info);
Napi::Value ReadGgufInfoBinding(const Napi::CallbackInfo & info);
Napi::Value GgufNamesBinding(const Napi::CallbackInfo & info);
Napi::Value QuantizeBinding(const Napi::CallbackInfo & info);
Napi::Value ProbeMachineBinding(const Napi::CallbackInfo & info);
Napi::Value VnniMatrixCheckBinding(const Napi::CallbackInfo & info);
Napi::Value PreprocessRgbBinding(const Napi::CallbackInfo & info);
Napi::Value ResizeRgbBinding(const Napi::CallbackInfo & info);
Napi::Function TokenizerClass(Napi::Env env);
// A Tokenizer object sharing `tokenizer`'s vocabulary (the model's).
Napi::Object NewTokenizerObject(Napi::Env env, Tokenizer tokenizer);  // the Tokenizer class (tokenizer_binding.cpp)

}  // namespace moondream::addon
