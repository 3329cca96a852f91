#include "content_hash.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

namespace moondream {

namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ull;
constexpr size_t kChunk = size_t(8) << 20;  // hash_large's unit of work

uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
// One multiply-rotate-multiply step per 8-byte word; four independent lanes keep the multiplier
// busy while each lane waits on its own previous step.
uint64_t step(uint64_t lane, uint64_t word) { return rotl(lane + word * kPrime2, 31) * kPrime1; }
uint64_t load64(const uint8_t * p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= kPrime2;
    h ^= h >> 29;
    h *= kPrime3;
    h ^= h >> 32;
    return h;
}

}  // namespace

uint64_t hash_bytes(const uint8_t * data, size_t bytes, uint64_t seed) {
    uint64_t lanes[4] = {seed + kPrime1 + kPrime2, seed + kPrime2, seed, seed - kPrime1};
    size_t at = 0;
    for (; at + 32 <= bytes; at += 32) {
        for (int l = 0; l < 4; ++l) lanes[l] = step(lanes[l], load64(data + at + 8 * l));
    }
    uint64_t h = rotl(lanes[0], 1) + rotl(lanes[1], 7) + rotl(lanes[2], 12) + rotl(lanes[3], 18);
    for (; at + 8 <= bytes; at += 8) h = rotl(h ^ step(0, load64(data + at)), 27) * kPrime1 + kPrime3;
    for (; at < bytes; ++at) h = rotl(h ^ (data[at] * kPrime3), 11) * kPrime1;
    return mix(h ^ uint64_t(bytes));
}

uint64_t hash_large(const uint8_t * data, size_t bytes, int threads) {
    const size_t chunks = (bytes + kChunk - 1) / kChunk;
    std::vector<uint64_t> hashes(chunks);
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (size_t c; (c = next.fetch_add(1)) < chunks;) {
            const size_t start = c * kChunk;
            hashes[c] = hash_bytes(data + start, std::min(kChunk, bytes - start), c);
        }
    };
    const size_t workers = std::min<size_t>(chunks, size_t(std::max(threads, 1)));
    std::vector<std::thread> pool;
    for (size_t i = 1; i < workers; ++i) pool.emplace_back(work);
    work();
    for (std::thread & t : pool) t.join();
    return hash_bytes(reinterpret_cast<const uint8_t *>(hashes.data()), hashes.size() * sizeof(uint64_t), bytes);
}

}  // namespace moondream
