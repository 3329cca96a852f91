// Picks the next token from logits: greedy by default; otherwise repetition penalty, temperature,
// top-k, top-p and min-p, then a draw from a seeded generator (same seed, same tokens).
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "moondream.h"

namespace moondream {

class Sampler {
public:
    explicit Sampler(const SamplingParams & params);

    // `logits` is modified (penalties, temperature).
    int32_t sample(std::vector<float> & logits);
    // Records a token for the repetition penalty (prompt tokens and generated ones).
    void accept(int32_t token);

private:
    double uniform();
    SamplingParams params_;
    std::mt19937_64 rng_;
    std::deque<int32_t> recent_;
    std::vector<std::pair<float, int32_t>> candidates_;
};

// Checks ranges so nothing nonsensical reaches the sampler.
Status validate_sampling(const SamplingParams & params);

}  // namespace moondream
