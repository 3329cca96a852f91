// The model's prompt as two token segments around the image rows (spec §7.1-7.2). The same rules
// as src/prompt.ts, which the TypeScript API uses; test/fixtures/golden/native-smoke.json holds
// the tokens both must produce.
#include <map>

#include "model.h"
#include "moondream.h"

namespace moondream {

namespace {

bool is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Replaces each {name} whose name is in `values`, in one left-to-right pass: text that comes in
// through a value is never scanned again, and unknown placeholders stay as they are.
std::string fill_template(std::string_view text, const std::map<std::string, std::string_view> & values) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '{') {
            size_t end = i + 1;
            while (end < text.size() && is_word_char(text[end])) ++end;
            if (end > i + 1 && end < text.size() && text[end] == '}') {
                auto it = values.find(std::string(text.substr(i + 1, end - i - 1)));
                if (it != values.end()) {
                    out += it->second;
                    i = end + 1;
                    continue;
                }
            }
        }
        out += text[i++];
    }
    return out;
}

}  // namespace

PromptTokens build_prompt(const Model & model, std::string_view question, const std::vector<ChatTurn> & history) {
    const PromptProfile & profile = model.text->prompt;
    const Tokenizer & tokenizer = *model.text->tokenizer;
    // The loader checked that the template holds {image}.
    const std::string_view template_text = profile.template_text;
    const size_t marker = template_text.find("{image}");
    const std::string_view before = template_text.substr(0, marker);
    const std::string_view after = template_text.substr(marker + std::string_view("{image}").size());

    std::string history_text;
    for (const ChatTurn & turn : history) {
        history_text += fill_template(profile.history_turn, {{"question", turn.question}, {"answer", turn.answer}});
    }
    PromptTokens prompt;
    if (profile.bos_token_id >= 0) prompt.prefix.push_back(profile.bos_token_id);
    if (!before.empty()) {
        const std::vector<int32_t> ids = tokenizer.tokenize(before);
        prompt.prefix.insert(prompt.prefix.end(), ids.begin(), ids.end());
    }
    prompt.suffix = tokenizer.tokenize(fill_template(after, {{"history", history_text}, {"question", question}}));
    return prompt;
}

}  // namespace moondream
