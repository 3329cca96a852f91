#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "weight_file.h"

namespace moondream {

Status validate_sampling(const SamplingParams & p) {
    if (!std::isfinite(p.temperature) || p.temperature < 0) return Error{ErrorCode::invalid_argument, "temperature must be a finite number >= 0"};
    if (p.top_k < 0) return Error{ErrorCode::invalid_argument, "topK must be >= 0"};
    if (!(p.top_p > 0 && p.top_p <= 1)) return Error{ErrorCode::invalid_argument, "topP must be in (0, 1]"};
    if (!(p.min_p >= 0 && p.min_p < 1)) return Error{ErrorCode::invalid_argument, "minP must be in [0, 1)"};
    if (!std::isfinite(p.repeat_penalty) || p.repeat_penalty <= 0) return Error{ErrorCode::invalid_argument, "repeatPenalty must be > 0"};
    if (p.repeat_last_n < 0) return Error{ErrorCode::invalid_argument, "repeatLastN must be >= 0"};
    return std::nullopt;
}

Sampler::Sampler(const SamplingParams & params) : params_(params), rng_(params.seed) {}

void Sampler::accept(int32_t token) {
    if (params_.repeat_last_n == 0) return;
    recent_.push_back(token);
    while (recent_.size() > size_t(params_.repeat_last_n)) recent_.pop_front();
}

double Sampler::uniform() {
    // 53 random bits: the same sequence on every platform, unlike std::uniform_real_distribution.
    return double(rng_() >> 11) * (1.0 / 9007199254740992.0);
}

int32_t Sampler::sample(std::vector<float> & logits) {
    if (params_.repeat_penalty != 1.0f && !recent_.empty()) {
        std::unordered_set<int32_t> seen(recent_.begin(), recent_.end());
        for (int32_t id : seen) {
            float & l = logits[size_t(id)];
            l = l > 0 ? l / params_.repeat_penalty : l * params_.repeat_penalty;
        }
    }
    if (params_.temperature <= 0) {
        return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }

    candidates_.clear();
    candidates_.reserve(logits.size());
    for (size_t i = 0; i < logits.size(); ++i) candidates_.emplace_back(logits[i] / params_.temperature, int32_t(i));
    auto by_logit = [](const auto & a, const auto & b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
    size_t keep = candidates_.size();
    if (params_.top_k > 0 && size_t(params_.top_k) < keep) {
        keep = size_t(params_.top_k);
        std::partial_sort(candidates_.begin(), candidates_.begin() + long(keep), candidates_.end(), by_logit);
        candidates_.resize(keep);
    } else {
        std::sort(candidates_.begin(), candidates_.end(), by_logit);
    }
    // Softmax over the survivors.
    const float max_logit = candidates_.front().first;
    double sum = 0;
    for (auto & c : candidates_) {
        c.first = std::exp(c.first - max_logit);
        sum += c.first;
    }
    for (auto & c : candidates_) c.first = float(c.first / sum);
    // min-p: drop tokens far less likely than the best one.
    if (params_.min_p > 0) {
        const float floor = params_.min_p * candidates_.front().first;
        size_t n = 1;
        while (n < candidates_.size() && candidates_[n].first >= floor) ++n;
        candidates_.resize(n);
    }
    // top-p: the smallest prefix whose mass reaches top_p.
    if (params_.top_p < 1) {
        double mass = 0;
        size_t n = 0;
        while (n < candidates_.size()) {
            mass += candidates_[n].first;
            ++n;
            if (mass >= params_.top_p) break;
        }
        candidates_.resize(n);
    }
    double total = 0;
    for (const auto & c : candidates_) total += c.first;
    double r = uniform() * total;
    for (const auto & c : candidates_) {
        r -= c.first;
        if (r <= 0) return c.second;
    }
    return candidates_.back().second;
}

}  // namespace moondream
