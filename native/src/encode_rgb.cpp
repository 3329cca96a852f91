// Raw RGB to image rows in one call, preprocessed with the model's own values (its mmproj's image
// size, mean and std), so an embedding program never has to know them.
#include "model.h"
#include "moondream.h"
#include "session.h"
#include "try.h"

namespace moondream {

Result<ImageEmbeddings> encode_rgb(Model & model, const uint8_t * rgb, size_t size, int64_t width, int64_t height,
                                   const std::atomic<bool> * abort) {
    if (!model.vision) {
        return Error{ErrorCode::invalid_argument, "this model was loaded without its mmproj file, so it cannot encode images"};
    }
    MD_ASSIGN_OR_RETURN(const std::vector<float> pixels, preprocess_rgb(rgb, size, width, height, preprocess_params(model.vision->hp)));
    return encode_image(model, pixels.data(), pixels.size(), abort);
}

Result<ImageEmbeddings> encode_rgb(Session & session, const uint8_t * rgb, size_t size, int64_t width, int64_t height,
                                   const std::atomic<bool> * abort) {
    return encode_rgb(*session.model, rgb, size, width, height, abort);
}

}  // namespace moondream
