#include "profile.h"

#include "try.h"

namespace moondream {

namespace {

constexpr const char * kProfileKey = "moondream.profile";

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
    if (value == "erf") return Gelu::erf;
    if (value == "tanh") return Gelu::tanh;
    return keys.error(key, "is \"" + value + "\", expected \"erf\" or \"tanh\"");
}

}  // namespace

Result<PromptProfile> read_prompt_profile(const GgufKeys & keys) {
    if (!keys.has(kProfileKey)) return moondream2_prompt();
    PromptProfile p;
    MD_ASSIGN_OR_RETURN(p.name, keys.string(kProfileKey));
    MD_ASSIGN_OR_RETURN(p.template_text, keys.string("moondream.prompt.template"));
    if (p.template_text.find("{image}") == std::string::npos || p.template_text.find("{question}") == std::string::npos) {
        return keys.error("moondream.prompt.template", "must contain {image} and {question}");
    }
    MD_ASSIGN_OR_RETURN(p.history_turn, keys.string("moondream.prompt.history_turn"));
    MD_ASSIGN_OR_RETURN(p.caption_question, keys.string("moondream.prompt.caption_question"));
    MD_ASSIGN_OR_RETURN(p.bos_token_id, keys.integer_or("moondream.prompt.bos_token_id", -1, -1, INT32_MAX));
    MD_ASSIGN_OR_RETURN(const std::vector<int64_t> stops, keys.integers("moondream.stop_token_ids"));
    for (int64_t id : stops) {
        if (id < 0 || id > INT32_MAX) return keys.error("moondream.stop_token_ids", "holds an invalid token id");
        p.stop_token_ids.push_back(int(id));
    }
    MD_ASSIGN_OR_RETURN(p.max_new_tokens, keys.integer("moondream.max_new_tokens", 1, 1 << 20));
    if (keys.has("moondream.answer.strip_suffixes")) {
        MD_ASSIGN_OR_RETURN(p.strip_suffixes, keys.strings("moondream.answer.strip_suffixes"));
    }
    MD_ASSIGN_OR_RETURN(p.license, keys.string_or("moondream.license", "unknown"));
    MD_ASSIGN_OR_RETURN(p.revision, keys.string_or("moondream.source.revision", "unknown"));
    return p;
}

Result<VisionProfile> read_vision_profile(const GgufKeys & keys) {
    VisionProfile v;
    if (!keys.has(kProfileKey)) {
        // moondream2 from 2024-04 on uses tanh GELU; llama.cpp's clip graph does too.
        v.vision_gelu = Gelu::tanh;
        v.projector_gelu = Gelu::tanh;
        v.resize = ResizeMode::stretch;
        return v;
    }
    MD_ASSIGN_OR_RETURN(v.vision_gelu, read_gelu(keys, "moondream.vision.gelu"));
    MD_ASSIGN_OR_RETURN(v.projector_gelu, read_gelu(keys, "moondream.projector.gelu"));
    // Only stretch is implemented: a mode we would parse but not apply would silently feed the
    // vision tower other pixels than the file's makers meant, so anything else is refused.
    MD_ASSIGN_OR_RETURN(const std::string resize, keys.string_or("moondream.vision.resize", "stretch"));
    if (resize != "stretch") {
        return keys.error("moondream.vision.resize", "is \"" + resize + "\"; this runtime only implements \"stretch\" (moondream1's resize)");
    }
    v.resize = ResizeMode::stretch;
    return v;
}

}  // namespace moondream
