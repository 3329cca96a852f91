#pragma once

#include <napi.h>

namespace moondream::addon {

// model.encodePixels(pixels: Float32Array, abortFlag?) -> Promise<{ embeddings, rows, width, encodeMs }>
Napi::Value EncodePixelsBinding(const Napi::CallbackInfo & info);

}  // namespace moondream::addon
