// A loaded model: the text weights and, optionally, the vision weights, immutable once loaded;
// and what every session of the model shares: the compute pool (the model's thread budget) and
// the vision encoder (one set of compute buffers, however many sessions encode images).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "compute_pool.h"
#include "moondream.h"
#include "text_model.h"
#include "vision_model.h"

namespace moondream {

class VisionEncoder;

// The vision encoder, created on the first image and then reused; one image at a time.
struct SharedVisionEncoder {
    SharedVisionEncoder();
    ~SharedVisionEncoder();
    std::mutex mutex;  // held for a whole encode
    std::unique_ptr<VisionEncoder> encoder;
    // Its buffers' size, readable without waiting for an encode to finish.
    std::atomic<size_t> compute_bytes{0};
};

class Model {
public:
    std::unique_ptr<TextModel> text;
    std::unique_ptr<VisionModel> vision;  // null for a text-only load
    std::shared_ptr<ComputePool> compute;
    bool release_vision_weights = false;  // LoadParams::release_vision_weights
    // Declared after the weights it reads, so it is destroyed first.
    SharedVisionEncoder vision_encoder;
};

}  // namespace moondream
