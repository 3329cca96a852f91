// A loaded model: the text weights and, optionally, the vision weights. Immutable once loaded.
#pragma once

#include <memory>

#include "moondream.h"
#include "text_model.h"
#include "vision_model.h"

namespace moondream {

class Model {
public:
    std::unique_ptr<TextModel> text;
    std::unique_ptr<VisionModel> vision;  // null for a text-only load
};

}  // namespace moondream
