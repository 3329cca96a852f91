// Image preprocessing bit-exact with moondream1's Python pipeline (spec: moondream1 §3,
// tokenizer-and-preprocessing §4): Pillow's resize((378, 378), BICUBIC) on 8-bit RGB, then
// torchvision's ToDtype(float32, scale=True) and Normalize(0.5, 0.5). The side, mean and std are
// the model's (PreprocessParams from the mmproj); moondream1's are those.
//
// Exactness notes:
// - The weights are computed in double exactly as Pillow defines them and then rounded to 22-bit
//   fixed point; from there on everything is integer arithmetic, so only the weight computation
//   must round like Pillow's. CMakeLists.txt builds this file with -ffp-contract=off: a fused
//   multiply-add in the kernel polynomial or the normalisation would round differently.
// - Pillow resizes rows first (into a uint8 image), then columns. Instead of materialising that
//   intermediate image (width_out x height_in, 11 GB for a 1 x 10^7 input), each intermediate row
//   is made once, when it is reached, and added straight into the accumulators of the output rows
//   whose windows contain it. Integer sums do not depend on order, so the result is identical.
#include "preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <string>

#include "moondream_testing.h"

namespace moondream {

namespace preprocess {

namespace {

// Keys' cubic convolution kernel with a = -0.5, which is what Pillow calls BICUBIC; it is zero
// from |x| = 2 on. Written in the usual nested form; the evaluation order matters for rounding.
double bicubic_kernel(double x) {
    constexpr double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}
constexpr double bicubic_support = 2.0;

// Rounds half away from zero, as Pillow does when it turns weights into fixed point.
int32_t to_fixed(double weight) {
    const double scaled = weight * double(1 << weight_fraction_bits);
    return int32_t(scaled < 0.0 ? scaled - 0.5 : scaled + 0.5);
}

// Accumulators start at one half so that the final shift rounds to nearest.
constexpr int32_t accumulator_start = int32_t(1) << (weight_fraction_bits - 1);

// |sum of weights * 255| stays below 2^31: the normalised weights' absolute values sum to at
// most ~1.25 for this kernel, so int32 accumulators (as in Pillow) cannot overflow.
uint8_t clamp_to_u8(int32_t accumulator) {
    if (accumulator < 0) return 0;
    return uint8_t(std::min<int32_t>(accumulator >> weight_fraction_bits, 255));
}

// One row of the horizontal pass: src has axis.in_size RGB pixels, dst gets axis.out_size.
void resample_row(const uint8_t * src, const ResampleAxis & axis, uint8_t * dst) {
    for (int o = 0; o < axis.out_size; ++o) {
        const uint8_t * pixel = src + size_t(axis.first[o]) * 3;
        const int32_t * weight = axis.weights.data() + axis.offset[o];
        int32_t r = accumulator_start;
        int32_t g = accumulator_start;
        int32_t b = accumulator_start;
        for (int j = 0; j < axis.count[o]; ++j, pixel += 3) {
            r += int32_t(pixel[0]) * weight[j];
            g += int32_t(pixel[1]) * weight[j];
            b += int32_t(pixel[2]) * weight[j];
        }
        dst[size_t(o) * 3 + 0] = clamp_to_u8(r);
        dst[size_t(o) * 3 + 1] = clamp_to_u8(g);
        dst[size_t(o) * 3 + 2] = clamp_to_u8(b);
    }
}

}  // namespace

ResampleAxis bicubic_axis(int in_size, int out_size) {
    ResampleAxis axis;
    axis.in_size = in_size;
    axis.out_size = out_size;
    // Shrinking widens the kernel by the scale factor: that is Pillow's built-in antialiasing.
    const double scale = double(in_size) / double(out_size);
    const double filter_scale = std::max(scale, 1.0);
    const double support = bicubic_support * filter_scale;
    const double inverse_filter_scale = 1.0 / filter_scale;

    axis.first.resize(size_t(out_size));
    axis.count.resize(size_t(out_size));
    axis.offset.resize(size_t(out_size));
    axis.weights.reserve(size_t(out_size) * size_t(2 * std::ceil(support) + 1));
    std::vector<double> window;
    for (int o = 0; o < out_size; ++o) {
        const double center = (o + 0.5) * scale;
        // Truncation toward zero, then clamping to the image, as Pillow bounds its windows.
        const int lo = std::max(int(center - support + 0.5), 0);
        const int hi = std::min(int(center + support + 0.5), in_size);
        window.assign(size_t(hi - lo), 0.0);
        double total = 0.0;
        for (int j = 0; j < hi - lo; ++j) {
            window[size_t(j)] = bicubic_kernel((double(j + lo) - center + 0.5) * inverse_filter_scale);
            total += window[size_t(j)];
        }
        axis.first[size_t(o)] = lo;
        axis.count[size_t(o)] = hi - lo;
        axis.offset[size_t(o)] = axis.weights.size();
        for (double w : window) axis.weights.push_back(to_fixed(total != 0.0 ? w / total : w));
    }
    return axis;
}

std::vector<uint8_t> resize_rgb(const uint8_t * rgb, int width, int height, int out_width, int out_height) {
    const size_t in_row = size_t(width) * 3;
    const size_t out_row = size_t(out_width) * 3;
    if (width == out_width && height == out_height) {
        return std::vector<uint8_t>(rgb, rgb + size_t(height) * in_row);  // Pillow returns a copy
    }

    // Pillow skips the horizontal pass when the width is unchanged; so do we.
    const bool horizontal = width != out_width;
    ResampleAxis columns;
    if (horizontal) columns = bicubic_axis(width, out_width);
    std::vector<uint8_t> row_buffer(horizontal ? out_row : 0);
    auto intermediate_row = [&](int y) -> const uint8_t * {
        const uint8_t * source = rgb + size_t(y) * in_row;
        if (!horizontal) return source;
        resample_row(source, columns, row_buffer.data());
        return row_buffer.data();
    };

    std::vector<uint8_t> out(size_t(out_height) * out_row);
    if (height == out_height) {
        for (int y = 0; y < height; ++y) std::memcpy(out.data() + size_t(y) * out_row, intermediate_row(y), out_row);
        return out;
    }

    const ResampleAxis rows = bicubic_axis(height, out_height);
    std::vector<int32_t> accumulators(out.size(), accumulator_start);
    // The output rows whose windows contain source row y form a range [lo, hi) that only moves
    // forward, because window starts and ends never decrease.
    int lo = 0;
    int hi = 0;
    const int y_end = rows.first.back() + rows.count.back();
    for (int y = rows.first.front(); y < y_end; ++y) {
        while (lo < out_height && rows.first[size_t(lo)] + rows.count[size_t(lo)] <= y) ++lo;
        while (hi < out_height && rows.first[size_t(hi)] <= y) ++hi;
        if (lo >= hi) continue;  // no window reads this row
        const uint8_t * source = intermediate_row(y);
        for (int o = lo; o < hi; ++o) {
            const int32_t weight = rows.weights[rows.offset[size_t(o)] + size_t(y - rows.first[size_t(o)])];
            int32_t * accumulator = accumulators.data() + size_t(o) * out_row;
            for (size_t i = 0; i < out_row; ++i) accumulator[i] += int32_t(source[i]) * weight;
        }
    }
    for (size_t i = 0; i < out.size(); ++i) out[i] = clamp_to_u8(accumulators[i]);
    return out;
}

std::array<float, 256> normalisation_table(float mean, float std_dev) {
    // torch multiplies a float32 tensor by the Python double 1/255 rounded to float32, then
    // Normalize subtracts and divides in float32 (mean and std as float32 tensors). Dividing by
    // 255 instead, or computing v / 127.5 - 1 for moondream1's 0.5, differs in the last bit for
    // about half of the values.
    const float inverse_255 = float(1.0 / 255.0);
    std::array<float, 256> table{};
    for (int v = 0; v < 256; ++v) {
        const float scaled = float(v) * inverse_255;
        const float centred = scaled - mean;
        table[size_t(v)] = centred / std_dev;
    }
    return table;
}

}  // namespace preprocess

namespace {

Error invalid(const std::string & message) { return {ErrorCode::invalid_argument, message}; }

std::optional<Error> check_side(const char * what, int64_t value) {
    if (value < 1 || value > max_resample_side) {
        return invalid(std::string(what) + " must be between 1 and " + std::to_string(max_resample_side) +
                       ", got " + std::to_string(value));
    }
    return std::nullopt;
}

std::optional<Error> check_input(const uint8_t * rgb, size_t size, int64_t width, int64_t height) {
    if (auto error = check_side("image width", width)) return error;
    if (auto error = check_side("image height", height)) return error;
    // Both sides are at most 2^24, so the product cannot overflow.
    const uint64_t expected = uint64_t(width) * uint64_t(height) * 3;
    if (rgb == nullptr || uint64_t(size) != expected) {
        return invalid("RGB image of " + std::to_string(width) + "x" + std::to_string(height) + " needs " +
                       std::to_string(expected) + " bytes (3 per pixel), got " + std::to_string(rgb ? size : 0));
    }
    return std::nullopt;
}

Error out_of_memory(int64_t width, int64_t height, int64_t out_width, int64_t out_height) {
    return {ErrorCode::out_of_memory, "not enough memory to resize a " + std::to_string(width) + "x" +
                                          std::to_string(height) + " image to " + std::to_string(out_width) + "x" +
                                          std::to_string(out_height)};
}

}  // namespace

Result<std::vector<uint8_t>> resize_rgb_bicubic(const uint8_t * rgb, size_t size, int64_t width, int64_t height,
                                                int64_t out_width, int64_t out_height) {
    if (auto error = check_input(rgb, size, width, height)) return *error;
    if (auto error = check_side("output width", out_width)) return *error;
    if (auto error = check_side("output height", out_height)) return *error;
    if (out_width * out_height > max_resample_output_pixels) {
        return invalid("output of " + std::to_string(out_width) + "x" + std::to_string(out_height) +
                       " pixels is more than the limit of " + std::to_string(max_resample_output_pixels));
    }
    try {
        return preprocess::resize_rgb(rgb, int(width), int(height), int(out_width), int(out_height));
    } catch (const std::bad_alloc &) {
        return out_of_memory(width, height, out_width, out_height);
    }
}

PreprocessParams preprocess_params(const VisionHparams & vision) {
    PreprocessParams params;
    params.image_size = vision.image_size;
    for (int c = 0; c < 3; ++c) {
        params.mean[c] = vision.mean[c];
        params.std[c] = vision.std[c];
    }
    return params;
}

Result<std::vector<float>> preprocess_rgb(const uint8_t * rgb, size_t size, int64_t width, int64_t height,
                                          const PreprocessParams & params) {
    if (auto error = check_input(rgb, size, width, height)) return *error;
    const int64_t side = params.image_size;
    if (side < 1 || side * side > max_resample_output_pixels) {
        return invalid("image_size must be between 1 and " + std::to_string(int64_t(std::sqrt(double(max_resample_output_pixels)))) +
                       ", got " + std::to_string(side));
    }
    for (int c = 0; c < 3; ++c) {
        // The same bounds the model loader puts on clip.vision.image_mean and image_std.
        if (!(std::fabs(params.mean[c]) < 1e6f)) return invalid("image mean " + std::to_string(params.mean[c]) + " is not a finite value below 1e6");
        if (!(params.std[c] > 0 && params.std[c] < 1e6f)) return invalid("image std " + std::to_string(params.std[c]) + " is not positive and below 1e6");
    }
    const size_t plane = size_t(side) * size_t(side);
    try {
        const std::vector<uint8_t> resized = preprocess::resize_rgb(rgb, int(width), int(height), int(side), int(side));
        std::vector<float> chw(3 * plane);
        for (size_t c = 0; c < 3; ++c) {
            const std::array<float, 256> table = preprocess::normalisation_table(params.mean[c], params.std[c]);
            float * out = chw.data() + c * plane;
            for (size_t i = 0; i < plane; ++i) out[i] = table[resized[i * 3 + c]];
        }
        return chw;
    } catch (const std::bad_alloc &) {
        return out_of_memory(width, height, side, side);
    }
}

}  // namespace moondream
