#include "profile.h"

#include "gguf_names.h"
#include "try.h"

namespace moondream {

namespace {

namespace profile_keys = gguf::profile_keys;
namespace prompt_keys = gguf::prompt_keys;
namespace vision_profile_keys = gguf::vision_profile_keys;
namespace values = gguf::values;

// moondream2 GGUFs (2024 revisions and ggml-org/moondream2-20250414-GGUF): BOS then the image
// rows with no <image> tags, no trailing space after "Answer:", stop on <|endoftext|>, answers
// not post-processed (spec §8.1-8.2).
PromptProfile moondream2_prompt() {
    PromptProfile p;
    p.name = "moondream2-gguf";
    p.template_text = "{image}\n\n{history}Question: {question}\n\nAnswer:";
    p.history_turn = "Question: {question}\n\nAnswer: {answer}\n\n";
    p.caption_question = "Describe this image.";
    p.bos_token_id = 50256;
    p.stop_token_ids = {50256};
    p.max_new_tokens = 512;
    p.license = "see the model's card";
    p.revision = "unknown";
    return p;
}

Result<Gelu> read_gelu(const GgufKeys & keys, const std::string & key) {
    MD_ASSIGN_OR_RETURN(const std::string value, keys.string(key));
    if (value == values::gelu_erf) return Gelu::erf;
    if (value == values::gelu_tanh) return Gelu::tanh;
    return keys.error(key, "is \"" + value + "\", expected \"" + values::gelu_erf + "\" or \"" + values::gelu_tanh + "\"");
}

}  // namespace

Result<PromptProfile> read_prompt_profile(const GgufKeys & keys) {
    if (!keys.has(profile_keys::profile)) return moondream2_prompt();
    PromptProfile p;
    MD_ASSIGN_OR_RETURN(p.name, keys.string(profile_keys::profile));
    MD_ASSIGN_OR_RETURN(p.template_text, keys.string(prompt_keys::template_text));
    if (p.template_text.find("{image}") == std::string::npos || p.template_text.find("{question}") == std::string::npos) {
        return keys.error(prompt_keys::template_text, "must contain {image} and {question}");
    }
    MD_ASSIGN_OR_RETURN(p.history_turn, keys.string(prompt_keys::history_turn));
    MD_ASSIGN_OR_RETURN(p.caption_question, keys.string(prompt_keys::caption_question));
    MD_ASSIGN_OR_RETURN(p.bos_token_id, keys.integer_or(prompt_keys::bos_token_id, -1, -1, INT32_MAX));
    MD_ASSIGN_OR_RETURN(const std::vector<int64_t> stops, keys.integers(prompt_keys::stop_token_ids));
    for (int64_t id : stops) {
        if (id < 0 || id > INT32_MAX) return keys.error(prompt_keys::stop_token_ids, "holds an invalid token id");
        p.stop_token_ids.push_back(int(id));
    }
    MD_ASSIGN_OR_RETURN(p.max_new_tokens, keys.integer(prompt_keys::max_new_tokens, 1, 1 << 20));
    if (keys.has(prompt_keys::strip_suffixes)) {
        MD_ASSIGN_OR_RETURN(p.strip_suffixes, keys.strings(prompt_keys::strip_suffixes));
    }
    MD_ASSIGN_OR_RETURN(p.license, keys.string_or(profile_keys::license, "unknown"));
    MD_ASSIGN_OR_RETURN(p.revision, keys.string_or(profile_keys::revision, "unknown"));
    return p;
}

Result<VisionProfile> read_vision_profile(const GgufKeys & keys) {
    VisionProfile v;
    if (!keys.has(profile_keys::profile)) {
        // moondream2 from 2024-04 on uses tanh GELU; llama.cpp's clip graph does too.
        v.vision_gelu = Gelu::tanh;
        v.projector_gelu = Gelu::tanh;
        v.resize = ResizeMode::stretch;
        return v;
    }
    MD_ASSIGN_OR_RETURN(v.vision_gelu, read_gelu(keys, vision_profile_keys::vision_gelu));
    MD_ASSIGN_OR_RETURN(v.projector_gelu, read_gelu(keys, vision_profile_keys::projector_gelu));
    // Only stretch is implemented: a mode we would parse but not apply would silently feed the
    // vision tower other pixels than the file's makers meant, so anything else is refused.
    MD_ASSIGN_OR_RETURN(const std::string resize, keys.string_or(vision_profile_keys::resize, values::resize_stretch));
    if (resize != values::resize_stretch) {
        return keys.error(vision_profile_keys::resize,
                          "is \"" + resize + "\"; this runtime only implements \"" + values::resize_stretch + "\" (moondream1's resize)");
    }
    v.resize = ResizeMode::stretch;
    return v;
}

}  // namespace moondream
