#pragma once

#include "text_context.h"
#include "vision_encoder.h"

namespace moondream {

class Session {
public:
    std::shared_ptr<Model> model;
    SessionParams params;
    std::unique_ptr<TextContext> text;
    std::unique_ptr<VisionEncoder> vision;  // created on the first image
};

}  // namespace moondream
