// vnniMatrixCheck(typeId, k, n, m, seed, threads): check_vnni_matrix for the tests (small sizes, synchronous).
#include "bindings.h"
#include "js_errors.h"
#include "moondream_testing.h"

namespace moondream::addon {

Napi::Value VnniMatrixCheckBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 6) throw invalid_argument(env, "vnniMatrixCheck expects (typeId, k, n, m, seed, threads)");
    for (size_t i = 0; i < 6; ++i) {
        if (!info[i].IsNumber()) throw invalid_argument(env, "vnniMatrixCheck expects numbers");
    }
    auto number = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
    Result<VnniCheck> result = check_vnni_matrix(int(number(0)), number(1), number(2), number(3), uint64_t(number(4)), int(number(5)));
    if (!result.ok()) throw make_js_error(env, result.error());
    Napi::Object out = Napi::Object::New(env);
    out.Set("supported", result.value().supported);
    out.Set("maxRelativeDifference", result.value().max_relative_difference);
    out.Set("onAmxTiles", result.value().on_amx_tiles);
    return out;
}

}  // namespace moondream::addon
