// The public Tokenizer and StreamingDetokenizer (moondream.h): thin owners of a shared Vocab.
#include "utf8.h"
#include "vocab.h"

namespace moondream {

Result<Tokenizer> Tokenizer::from_gguf_file(const std::string & path) {
    Result<Vocab> vocab = load_vocab_from_gguf_file(path);
    if (!vocab.ok()) return vocab.error();
    return Tokenizer(std::make_shared<const Vocab>(std::move(vocab.value())));
}

Tokenizer::Tokenizer(std::shared_ptr<const Vocab> vocab) : vocab_(std::move(vocab)) {}

int32_t Tokenizer::vocab_size() const { return vocab_->size(); }
int32_t Tokenizer::bos_id() const { return vocab_->bos_id(); }
int32_t Tokenizer::eos_id() const { return vocab_->eos_id(); }

std::vector<int32_t> Tokenizer::tokenize(std::string_view text) const { return vocab_->tokenize(text); }

std::string Tokenizer::detokenize(const int32_t * ids, size_t count, bool skip_special) const {
    return vocab_->detokenize(ids, count, skip_special);
}

StreamingDetokenizer::StreamingDetokenizer(Tokenizer tokenizer, bool skip_special)
    : tokenizer_(std::move(tokenizer)), skip_special_(skip_special) {}

std::string StreamingDetokenizer::push(int32_t id) {
    pending_ += tokenizer_.vocab().detokenize_bytes(&id, 1, skip_special_);
    return utf8::take_complete(pending_);
}

std::string StreamingDetokenizer::finish() {
    std::string rest = utf8::make_valid(pending_);
    pending_.clear();
    return rest;
}

}  // namespace moondream
