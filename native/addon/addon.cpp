// Module entry: registers the exported functions. No logic lives here.
#include "abort_flag.h"
#include "addon_data.h"
#include "bindings.h"
#include "model_wrap.h"
#include "session_wrap.h"

namespace moondream::addon {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    env.SetInstanceData(new AddonData());  // owned and deleted by Node with the environment
    exports.Set("NativeModel", ModelWrap::define(env));
    exports.Set("NativeSession", SessionWrap::define(env));
    exports.Set("NativeAbortFlag", AbortFlagWrap::define(env));
    exports.Set("loadModel", Napi::Function::New(env, LoadModelBinding, "loadModel"));
    exports.Set("ggmlInfo", Napi::Function::New(env, GgmlInfoBinding, "ggmlInfo"));
    exports.Set("ggmlTypeTraits", Napi::Function::New(env, GgmlTypeTraitsBinding, "ggmlTypeTraits"));
    exports.Set("cpuBackend", Napi::Function::New(env, CpuBackendBinding, "cpuBackend"));
    exports.Set("readGgufInfo", Napi::Function::New(env, ReadGgufInfoBinding, "readGgufInfo"));
    exports.Set("ggufNames", Napi::Function::New(env, GgufNamesBinding, "ggufNames"));
    exports.Set("quantize", Napi::Function::New(env, QuantizeBinding, "quantize"));
    exports.Set("probeMachine", Napi::Function::New(env, ProbeMachineBinding, "probeMachine"));
    exports.Set("vnniMatrixCheck", Napi::Function::New(env, VnniMatrixCheckBinding, "vnniMatrixCheck"));
    exports.Set("preprocessRgb", Napi::Function::New(env, PreprocessRgbBinding, "preprocessRgb"));
    exports.Set("resizeRgb", Napi::Function::New(env, ResizeRgbBinding, "resizeRgb"));
    exports.Set("Tokenizer", TokenizerClass(env));
    return exports;
}

}  // namespace moondream::addon

// NODE_API_MODULE pastes the name into an identifier, so it needs an unqualified one.
static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return moondream::addon::Init(env, exports); }

NODE_API_MODULE(moondream_ggml, InitModule)
