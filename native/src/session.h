#pragma once

#include "text_context.h"

namespace moondream {

class Session {
public:
    std::shared_ptr<Model> model;
    std::unique_ptr<TextContext> text;
};

}  // namespace moondream
