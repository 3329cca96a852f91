#pragma once

#include "prefix_cache.h"
#include "text_context.h"

namespace moondream {

class Session {
public:
    std::shared_ptr<Model> model;
    SessionParams params;
    std::unique_ptr<TextContext> text;
    std::unique_ptr<PrefixCache> prefixes;
    // What KV positions [0, live_prefix_positions) hold right now, if they are an image prefix.
    std::optional<PrefixKey> live_prefix;
    int live_prefix_positions = 0;
};

}  // namespace moondream
