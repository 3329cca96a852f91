// Per-environment state of the addon (worker threads and multiple Node environments each get
// their own): the constructors of the classes it exports.
#pragma once

#include <napi.h>

namespace moondream::addon {

struct AddonData {
    Napi::FunctionReference model_constructor;
    Napi::FunctionReference session_constructor;
    Napi::FunctionReference abort_flag_constructor;
    Napi::FunctionReference tokenizer_constructor;
};

inline AddonData & addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace moondream::addon
