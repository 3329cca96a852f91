// Reading arguments from JS and building JS values, shared by every binding. Readers throw a JS
// ERR_INVALID_ARGUMENT: the addon's checks are a second line of defence behind TypeScript's.
#pragma once

#include <string>
#include <vector>

#include <napi.h>

#include "moondream.h"

namespace moondream::addon {

// An Int32Array's values.
std::vector<int32_t> read_int32_array(Napi::Env env, const Napi::Value & value, const char * what);

// A Float32Array of whole rows of `width` values, read in place (keep the array alive while the
// pointer is used). Null or undefined give no rows.
struct FloatRows {
    const float * data = nullptr;
    size_t n_rows = 0;
};
FloatRows read_float_rows(Napi::Env env, const Napi::Value & value, int64_t width, const char * what);

// `options[key]` when it is a number, else `fallback`.
double number_option(const Napi::Object & options, const char * key, double fallback);
// `options[key]` when it is a string, else `fallback`.
std::string string_option(const Napi::Object & options, const char * key, const std::string & fallback);
// `options[key]` when it is a boolean, else `fallback`.
bool bool_option(const Napi::Object & options, const char * key, bool fallback);

// maxTokens, the sampling options and stopTokenIds of a generate/answer options object.
GenerateParams read_generate_params(Napi::Env env, const Napi::Value & value);

Napi::Int32Array int32_array(Napi::Env env, const std::vector<int32_t> & values);
Napi::Array number_array(Napi::Env env, const std::vector<int> & values);
Napi::Array string_array(Napi::Env env, const std::vector<std::string> & values);
// A Float32Array that takes ownership of `values` without copying them.
Napi::Float32Array adopt_float32_array(Napi::Env env, std::vector<float> && values);

}  // namespace moondream::addon
