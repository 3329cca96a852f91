// The compiled-in GGUF names table (generated gguf_names.h), as data for the addon's ggufNames().
#include "gguf_names.h"

#include "moondream_tools.h"

namespace moondream {

GgufNames gguf_names() {
    GgufNames out;
    out.layer_placeholder = gguf::layer_placeholder;
    for (const gguf::NameEntry & entry : gguf::all) out.names.push_back({entry.group, entry.id, entry.name});
    return out;
}

}  // namespace moondream
