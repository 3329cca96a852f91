// Turns generated token ids into the text pieces a user sees while moondream answers, so that
// the pieces concatenate exactly to the final post-processed answer: whole UTF-8 characters only,
// leading whitespace dropped, and any tail that post-processing might still strip (trailing
// whitespace, a "<" or "END" stop fragment) held back until later text proves it stays.
#pragma once

#include <string>
#include <vector>

#include "moondream.h"

namespace moondream {

// moondream1's answer clean-up (spec §7.3): remove each suffix in order once (e.g. "END" then
// "<"), then surrounding whitespace.
std::string postprocess_answer(const std::string & text, const std::vector<std::string> & strip_suffixes);

class AnswerStream {
public:
    AnswerStream(const Tokenizer & tokenizer, std::vector<std::string> strip_suffixes);

    // Text that is now certain to begin the rest of the answer (possibly empty).
    std::string push(int32_t token);
    // The final answer's remaining text; afterwards text() is the whole answer.
    std::string finish();
    const std::string & text() const { return final_; }

private:
    bool may_be_stripped(unsigned char c) const;

    StreamingDetokenizer detokenizer_;
    std::vector<std::string> strip_suffixes_;
    std::string raw_;       // everything decoded so far
    size_t emitted_ = 0;    // bytes of the answer already handed out
    size_t start_ = std::string::npos;  // where the answer starts in raw_ (after leading whitespace)
    std::string final_;
};

}  // namespace moondream
