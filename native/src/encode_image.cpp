// Image encoding on the model's shared vision encoder.
#include <chrono>

#include "model.h"
#include "session.h"
#include "try.h"
#include "vision_encoder.h"

namespace moondream {

SharedVisionEncoder::SharedVisionEncoder() = default;
SharedVisionEncoder::~SharedVisionEncoder() = default;

Result<ImageEmbeddings> encode_image(Model & model, const float * pixels, size_t n_values, const std::atomic<bool> * abort) {
    if (!model.vision) {
        return Error{ErrorCode::invalid_argument, "this model was loaded without its mmproj file, so it cannot encode images"};
    }
    const VisionHparams & hp = model.vision->hp;
    const size_t expected = size_t(3) * size_t(hp.image_size) * size_t(hp.image_size);
    if (pixels == nullptr || n_values != expected) {
        return Error{ErrorCode::invalid_argument, "expected 3 x " + std::to_string(hp.image_size) + " x " +
                                                      std::to_string(hp.image_size) + " pixel values, received " + std::to_string(n_values)};
    }
    std::lock_guard<std::mutex> lock(model.vision_encoder.mutex);
    if (!model.vision_encoder.encoder) {
        MD_ASSIGN_OR_RETURN(model.vision_encoder.encoder, VisionEncoder::create(*model.vision, model.compute, model.release_vision_weights));
        model.vision_encoder.compute_bytes = model.vision_encoder.encoder->compute_bytes();
    }
    ImageEmbeddings out;
    const auto start = std::chrono::steady_clock::now();
    MD_RETURN_IF_ERROR(model.vision_encoder.encoder->encode(pixels, out.data, abort));
    out.encode_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    out.n_embd = hp.n_proj_out;
    out.n_rows = int(out.data.size() / size_t(hp.n_proj_out));
    return out;
}

Result<ImageEmbeddings> encode_image(Session & session, const float * pixels, size_t n_values, const std::atomic<bool> * abort) {
    return encode_image(*session.model, pixels, n_values, abort);
}

}  // namespace moondream
