// Turns moondream::Error values into JS errors that carry a stable `code`. TypeScript rewraps
// them as MoondreamError (src/errors.ts).
#pragma once

#include <napi.h>

#include "moondream.h"

namespace moondream::addon {

Napi::Error make_js_error(Napi::Env env, const Error & error);

// Argument checks in the addon are a second line of defence: TypeScript validates first.
Napi::Error invalid_argument(Napi::Env env, const std::string & message);

}  // namespace moondream::addon
