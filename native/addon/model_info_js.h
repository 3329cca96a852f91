// ModelInfo and SessionInfo as the JS objects src/native-types.ts describes.
#pragma once

#include <napi.h>

#include "moondream.h"

namespace moondream::addon {

Napi::Object model_info_to_js(Napi::Env env, const ModelInfo & info);
Napi::Object session_info_to_js(Napi::Env env, const SessionInfo & info);

}  // namespace moondream::addon
