// Hands the tiles of one decode product out to the threads that compute it, so a thread the host
// slows down does less of it instead of the others waiting for it at ggml's barrier.
//
// Each thread owns an equal contiguous share and takes it from the front, a few tiles at a time,
// so its weights still stream in order (the kernels prefetch ahead along that stream). A thread
// that runs out takes what is left of the others' shares from their back ends. The last thread
// to run out resets the claims for the next product; ggml's barrier after the op keeps every
// thread out of the next one until then. The model's graphs compute one at a time
// (ComputePool), so one set of claims per matrix serves.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace moondream {

class TileClaims {
public:
    static constexpr int kMaxThreads = 64;  // beyond this, a caller splits the tiles statically

    struct Range {
        int64_t first = 0;
        int64_t last = 0;
        bool empty() const { return first >= last; }
    };

    // The next tiles thread `ith` of `nth` computes from its own share, `step` at most at a time.
    Range take_own(int64_t tiles, int ith, int nth, int64_t step) { return take(tiles, ith, nth, step, true); }

    // Tiles from the back of another thread's share; empty when every share is taken.
    Range take_other(int64_t tiles, int ith, int nth, int64_t step) {
        for (int o = 1; o < nth; ++o) {
            const Range r = take(tiles, (ith + o) % nth, nth, step, false);
            if (!r.empty()) return r;
        }
        return {};
    }

    // Called once by each thread when it has nothing left; the last of `nth` resets the claims.
    void leave(int nth) {
        if (finished_.fetch_add(1, std::memory_order_acq_rel) + 1 == nth) {
            for (int i = 0; i < nth; ++i) shares_[i].state.store(0, std::memory_order_relaxed);
            finished_.store(0, std::memory_order_release);
        }
    }

private:
    // A share's state packs its untaken [front, back) with a flag bit: 0 means untouched, the
    // thread's whole share (front and back fit 31 bits: tiles of 16 rows).
    static constexpr uint64_t kTouched = uint64_t(1) << 63;
    static uint64_t pack(int64_t front, int64_t back) { return kTouched | (uint64_t(front) << 32) | uint64_t(back); }

    Range take(int64_t tiles, int owner, int nth, int64_t step, bool from_front) {
        const int64_t share = (tiles + nth - 1) / nth;
        std::atomic<uint64_t> & state = shares_[owner].state;
        uint64_t seen = state.load(std::memory_order_relaxed);
        for (;;) {
            int64_t front = std::min(tiles, share * owner);
            int64_t back = std::min(tiles, front + share);
            if (seen != 0) {
                front = int64_t((seen >> 32) & 0x7FFFFFFF);
                back = int64_t(seen & 0xFFFFFFFF);
            }
            if (front >= back) return {};
            const Range r = from_front ? Range{front, std::min(back, front + step)} : Range{std::max(front, back - step), back};
            const uint64_t next = from_front ? pack(r.last, back) : pack(front, r.first);
            if (state.compare_exchange_weak(seen, next, std::memory_order_relaxed)) return r;
        }
    }

    struct alignas(64) Share {
        std::atomic<uint64_t> state{0};
    };
    Share shares_[kMaxThreads];
    alignas(64) std::atomic<int> finished_{0};
};

}  // namespace moondream
