// Tokenization and detokenization over a loaded Vocab (loading: vocab_gguf.cpp).
#include "vocab.h"

#include <mutex>

#include "pretokenize.h"
#include "utf8.h"

namespace moondream {

// Pieces repeat a lot in real text ("Ġthe", "Ċ", ","), so the ids of short pieces are kept.
// Long pieces are rare and would only fill memory; a full cache starts over rather than growing
// without bound on hostile input.
class BpeCache {
public:
    static constexpr size_t kMaxPieceBytes = 64;
    static constexpr size_t kMaxEntries = size_t(1) << 16;

    bool append_cached(std::string_view piece, std::vector<TokenId> & out) {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = map_.find(std::string(piece));
        if (it == map_.end()) return false;
        out.insert(out.end(), it->second.begin(), it->second.end());
        return true;
    }

    void insert(std::string_view piece, std::vector<TokenId> ids) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (map_.size() >= kMaxEntries) map_.clear();
        map_.emplace(std::string(piece), std::move(ids));
    }

private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::vector<TokenId>> map_;
};

// Working memory of one tokenize() call.
struct TokenizeScratch {
    Gpt2PreTokenizer pre_tokenizer;
    std::vector<std::string_view> pieces;
    std::vector<TokenId> piece_ids;
    BpeMerges::Scratch bpe;
};

Vocab::Vocab() : cache_(std::make_unique<BpeCache>()) {}
Vocab::Vocab(Vocab &&) noexcept = default;
Vocab & Vocab::operator=(Vocab &&) noexcept = default;
Vocab::~Vocab() = default;

std::vector<TokenId> Vocab::tokenize(std::string_view text) const {
    std::string repaired;
    if (!utf8::is_valid(text)) {
        repaired = utf8::make_valid(text);
        text = repaired;
    }
    std::vector<TokenId> out;
    out.reserve(text.size() / 3 + 1);
    TokenizeScratch scratch;
    // HF matches the non-normalized added tokens (control: <|endoftext|>) on the raw text first,
    // then the normalized ones (user-defined) inside what is left. With no normalizer the only
    // difference from one combined pass is which token wins an overlap, and this order is HF's.
    size_t pos = 0;
    while (pos < text.size()) {
        const auto match = control_tokens_.find(text, pos);
        const size_t end = match ? match->begin : text.size();
        tokenize_unspecial(text.substr(pos, end - pos), out, scratch);
        if (!match) break;
        out.push_back(match->id);
        pos = match->begin + match->length;
    }
    return out;
}

void Vocab::tokenize_unspecial(std::string_view text, std::vector<TokenId> & out, TokenizeScratch & scratch) const {
    size_t pos = 0;
    while (pos < text.size()) {
        const auto match = user_tokens_.find(text, pos);
        const size_t end = match ? match->begin : text.size();
        tokenize_plain(text.substr(pos, end - pos), out, scratch);
        if (!match) break;
        out.push_back(match->id);
        pos = match->begin + match->length;
    }
}

void Vocab::tokenize_plain(std::string_view text, std::vector<TokenId> & out, TokenizeScratch & scratch) const {
    if (text.empty()) return;
    scratch.pieces.clear();
    scratch.pre_tokenizer.split(text, scratch.pieces);
    for (std::string_view piece : scratch.pieces) tokenize_piece(piece, out, scratch);
}

void Vocab::tokenize_piece(std::string_view piece, std::vector<TokenId> & out, TokenizeScratch & scratch) const {
    const bool cacheable = piece.size() <= BpeCache::kMaxPieceBytes;
    if (cacheable && cache_->append_cached(piece, out)) return;
    auto & ids = scratch.piece_ids;
    ids.clear();
    for (char b : piece) ids.push_back(byte_token_[static_cast<uint8_t>(b)]);
    merges_.apply(ids, scratch.bpe);
    out.insert(out.end(), ids.begin(), ids.end());
    if (cacheable) cache_->insert(piece, ids);
}

std::string Vocab::detokenize_bytes(const TokenId * ids, size_t n, bool skip_special) const {
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        const TokenId id = ids[i];
        if (id < 0 || id >= size()) continue;
        if (skip_special && types_[size_t(id)] == TokenType::control) continue;
        out += bytes_[size_t(id)];
    }
    return out;
}

std::string Vocab::detokenize(const TokenId * ids, size_t n, bool skip_special) const {
    const std::string bytes = detokenize_bytes(ids, n, skip_special);
    return utf8::is_valid(bytes) ? bytes : utf8::make_valid(bytes);
}

}  // namespace moondream
