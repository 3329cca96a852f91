// The moondream.* keys (our converter's) or, for files without them (the published moondream2
// GGUFs), the semantics those files were made for (design §3).
#pragma once

#include "gguf_keys.h"
#include "moondream.h"

namespace moondream {

Result<PromptProfile> read_prompt_profile(const GgufKeys & keys);
Result<VisionProfile> read_vision_profile(const GgufKeys & keys);

}  // namespace moondream
