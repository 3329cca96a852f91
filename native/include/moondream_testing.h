// moondream-ggml test hooks: self-checks of our kernels against ggml's and the pieces of the
// runtime exposed one by one so the test suites can hold each to an independent oracle. Not
// needed to run the model (moondream.h) nor by the tools (moondream_tools.h).
#pragma once

#include "moondream.h"

namespace moondream {

// ---- self-check of the VNNI matmul kernel ----------------------------------------------------------

struct VnniCheck {
    bool supported = false;              // this CPU runs the kernel (else nothing was compared)
    double max_relative_difference = 0;  // max |ours - ggml| / max |ggml| over the [n, m] result
    bool on_amx_tiles = false;           // the product ran on AMX tiles (amx_matrix.h), not VPDPBUSD
};

// Multiplies a seeded random q8_0 or q4_0 weight [k, n] by random activations [k, m] with our
// VNNI kernel and with ggml's mul_mat, and compares.
Result<VnniCheck> check_vnni_matrix(int type, int64_t k, int64_t n, int64_t m, uint64_t seed, int n_threads);

// ---- the resampler alone ---------------------------------------------------------------------------

// Pillow's Image.resize(size, BICUBIC) of 8-bit RGB, bit for bit: antialiased separable bicubic
// (a = -0.5), 22-bit fixed-point weights, horizontal pass first with a uint8 result between the
// passes, a pass skipped where that side keeps its size. `rgb` holds width*height pixels, 3 bytes
// each, row by row. Returns out_width*out_height*3 bytes in the same layout. Memory stays
// proportional to the input and output sizes, whatever their aspect ratios. preprocess_rgb runs
// this before normalising.
Result<std::vector<uint8_t>> resize_rgb_bicubic(const uint8_t * rgb, size_t size, int64_t width, int64_t height,
                                                int64_t out_width, int64_t out_height);

// ---- answer pieces without a model -----------------------------------------------------------------

// What answering streams for these generated ids (answer_question's pieces, without a model): the
// pieces in order and the final post-processed answer they concatenate to.
struct AnswerPieces {
    std::vector<std::string> pieces;
    std::string answer;
};
AnswerPieces stream_answer_pieces(const Tokenizer & tokenizer, const std::vector<int32_t> & ids,
                                  const std::vector<std::string> & strip_suffixes);

}  // namespace moondream
