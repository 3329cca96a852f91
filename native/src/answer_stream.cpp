#include "answer_stream.h"

#include <cctype>

#include "moondream_testing.h"

namespace moondream {

namespace {

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool ends_with(const std::string & text, const std::string & suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string postprocess_answer(const std::string & text, const std::vector<std::string> & strip_suffixes) {
    std::string out = text;
    for (const std::string & suffix : strip_suffixes) {
        if (!suffix.empty() && ends_with(out, suffix)) out.erase(out.size() - suffix.size());
    }
    size_t begin = 0;
    while (begin < out.size() && is_space(static_cast<unsigned char>(out[begin]))) ++begin;
    size_t end = out.size();
    while (end > begin && is_space(static_cast<unsigned char>(out[end - 1]))) --end;
    return out.substr(begin, end - begin);
}

AnswerStream::AnswerStream(const Tokenizer & tokenizer, std::vector<std::string> strip_suffixes)
    : detokenizer_(tokenizer, /*skip_special =*/true), strip_suffixes_(std::move(strip_suffixes)) {}

bool AnswerStream::may_be_stripped(unsigned char c) const {
    if (is_space(c)) return true;
    for (const std::string & suffix : strip_suffixes_) {
        if (suffix.find(static_cast<char>(c)) != std::string::npos) return true;
    }
    return false;
}

std::string AnswerStream::push(int32_t token) {
    raw_ += detokenizer_.push(token);
    if (start_ == std::string::npos) {
        size_t first = 0;
        while (first < raw_.size() && is_space(static_cast<unsigned char>(raw_[first]))) ++first;
        if (first == raw_.size()) return {};
        start_ = first;
        emitted_ = first;
    }
    // Post-processing can only remove characters that may be stripped, and only from a run of
    // them at the very end: everything before the last character outside that set is final.
    size_t safe = raw_.size();
    while (safe > emitted_ && may_be_stripped(static_cast<unsigned char>(raw_[safe - 1]))) --safe;
    std::string piece = raw_.substr(emitted_, safe - emitted_);
    emitted_ = safe;
    return piece;
}

std::string AnswerStream::finish() {
    raw_ += detokenizer_.finish();
    final_ = postprocess_answer(raw_, strip_suffixes_);
    const size_t already = start_ == std::string::npos ? 0 : emitted_ - start_;
    // The pieces handed out are a prefix of the final answer by construction.
    return already <= final_.size() ? final_.substr(already) : std::string();
}

AnswerPieces stream_answer_pieces(const Tokenizer & tokenizer, const std::vector<int32_t> & ids,
                                  const std::vector<std::string> & strip_suffixes) {
    AnswerStream stream(tokenizer, strip_suffixes);
    AnswerPieces out;
    for (int32_t id : ids) {
        std::string piece = stream.push(id);
        if (!piece.empty()) out.pieces.push_back(std::move(piece));
    }
    std::string tail = stream.finish();
    if (!tail.empty()) out.pieces.push_back(std::move(tail));
    out.answer = stream.text();
    return out;
}

}  // namespace moondream
