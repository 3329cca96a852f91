// Internals of the image preprocessing (moondream.h has the public entry points): the resampling
// weights and the normalisation table, exposed here so that their pieces can be reasoned about
// (and tested) one at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace moondream::preprocess {

// Weights are fixed point with this many fraction bits, as in Pillow, so that sums of
// uint8 * weight are exact integers and the result does not depend on summation order.
constexpr int weight_fraction_bits = 22;

// The weights of a 1-D antialiased bicubic resample from in_size to out_size samples. Output i
// reads count[i] consecutive inputs starting at first[i], with the weights at offset[i] onwards.
// Stored compactly (no padding to the widest window): a 10^7 -> 378 axis has 4*10^7 weights.
// first[i] and first[i] + count[i] never decrease with i.
struct ResampleAxis {
    int in_size = 0;
    int out_size = 0;
    std::vector<int32_t> first;
    std::vector<int32_t> count;
    std::vector<size_t> offset;
    std::vector<int32_t> weights;
};

// Pillow's BICUBIC weights. Sizes must be >= 1 (checked by the callers).
ResampleAxis bicubic_axis(int in_size, int out_size);

// Resizes 8-bit RGB (3 bytes per pixel, rows packed); the sizes were validated by the caller.
// Throws std::bad_alloc when memory runs out.
std::vector<uint8_t> resize_rgb(const uint8_t * rgb, int width, int height, int out_width, int out_height);

// out[v] for each uint8 value v: torch's  fround(fround(fround(v * fround(1/255)) - mean) / std).
std::array<float, 256> normalisation_table(float mean, float std_dev);

}  // namespace moondream::preprocess
