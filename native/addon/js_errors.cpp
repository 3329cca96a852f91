#include "js_errors.h"

namespace moondream::addon {

Napi::Error make_js_error(Napi::Env env, const Error & error) {
    Napi::Error js = Napi::Error::New(env, error.message);
    js.Set("code", Napi::String::New(env, error_code_name(error.code)));
    return js;
}

Napi::Error invalid_argument(Napi::Env env, const std::string & message) {
    return make_js_error(env, Error{ErrorCode::invalid_argument, message});
}

}  // namespace moondream::addon
