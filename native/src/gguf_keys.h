// Typed, validated access to a GGUF file's metadata. Every getter checks the stored type first
// (ggml's own getters assert on a mismatch) and fails with a message naming the file and key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf.h"
#include "moondream.h"

namespace moondream {

class GgufKeys {
public:
    GgufKeys(const gguf_context * ctx, std::string path) : ctx_(ctx), path_(std::move(path)) {}

    bool has(const std::string & key) const;

    // Any integer type; the value must fit in [min, max].
    Result<int64_t> integer(const std::string & key, int64_t min, int64_t max) const;
    Result<int64_t> integer_or(const std::string & key, int64_t fallback, int64_t min, int64_t max) const;
    // float32 or float64.
    Result<double> number(const std::string & key) const;
    Result<double> number_or(const std::string & key, double fallback) const;
    Result<bool> boolean_or(const std::string & key, bool fallback) const;
    Result<std::string> string(const std::string & key) const;
    Result<std::string> string_or(const std::string & key, const std::string & fallback) const;
    Result<std::vector<int64_t>> integers(const std::string & key) const;
    Result<std::vector<double>> numbers(const std::string & key) const;
    Result<std::vector<std::string>> strings(const std::string & key) const;

    Error error(const std::string & key, const std::string & problem) const;
    const std::string & path() const { return path_; }

private:
    int64_t find(const std::string & key) const;
    const gguf_context * ctx_;
    std::string path_;
};

}  // namespace moondream
