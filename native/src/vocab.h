// The vocabulary of a GPT-2-style byte-level BPE tokenizer (moondream1 uses CodeGen's, which is
// GPT-2's plus whitespace tokens), loaded from a GGUF file's tokenizer.ggml.* keys, and the two
// directions of tokenization with HF tokenizers' semantics:
//
// tokenize: 1. invalid UTF-8 becomes U+FFFD (HF works on Rust strings, which cannot hold it);
//           2. control tokens (<|endoftext|>) are split out of the raw text, leftmost-longest;
//           3. in what remains, user-defined tokens (CodeGen's runs of spaces and tabs) likewise;
//           4. each remaining stretch goes through GPT-2's pre-tokenizer, and each piece through
//              the byte-level alphabet and BPE by merge rank.
// detokenize: each token's bytes (the byte-level alphabet undone; tokens with characters outside
//           it, such as added whitespace tokens, stand for their own UTF-8), concatenated, then
//           made valid UTF-8 with U+FFFD for bytes that are not. Ids the tokenizer never produces
//           (unused filler rows) decode to nothing, as HF skips ids it does not know.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "added_tokens.h"
#include "bpe.h"
#include "moondream.h"

struct gguf_context;

namespace moondream {

// llama.cpp's token types (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
    normal = 1,
    unknown = 2,
    control = 3,
    user_defined = 4,
    unused = 5,
    byte = 6,
};

using TokenId = int32_t;

class BpeCache;
struct TokenizeScratch;

class Vocab {
public:
    // Reads and validates tokenizer.ggml.{model, pre, tokens, token_type, merges, bos_token_id,
    // eos_token_id}. Every problem is an ErrorCode::model_format error naming the key.
    static Result<Vocab> from_gguf(const gguf_context * ctx);

    Vocab(Vocab &&) noexcept;
    Vocab & operator=(Vocab &&) noexcept;
    ~Vocab();

    // Number of token ids (rows of the model's embedding, fillers included).
    int32_t size() const { return int32_t(texts_.size()); }
    TokenId bos_id() const { return bos_id_; }
    TokenId eos_id() const { return eos_id_; }
    size_t merge_count() const { return merges_.size(); }

    // For ids in [0, size()).
    const std::string & token_text(TokenId id) const { return texts_[size_t(id)]; }
    TokenType token_type(TokenId id) const { return types_[size_t(id)]; }
    const std::string & token_bytes(TokenId id) const { return bytes_[size_t(id)]; }

    // Thread-safe (the piece cache is locked).
    std::vector<TokenId> tokenize(std::string_view text) const;

    // The bytes of `ids`, not yet made valid UTF-8 (see utf8::make_valid). Ids outside [0, size())
    // and unused ids give nothing; so do control tokens when skip_special is set.
    std::string detokenize_bytes(const TokenId * ids, size_t n, bool skip_special) const;
    // detokenize_bytes() made valid UTF-8.
    std::string detokenize(const TokenId * ids, size_t n, bool skip_special) const;

private:
    Vocab();

    // Append the ids of: a stretch without control tokens; one without any added token; one piece.
    void tokenize_unspecial(std::string_view text, std::vector<TokenId> & out, TokenizeScratch & scratch) const;
    void tokenize_plain(std::string_view text, std::vector<TokenId> & out, TokenizeScratch & scratch) const;
    void tokenize_piece(std::string_view piece, std::vector<TokenId> & out, TokenizeScratch & scratch) const;

    std::vector<std::string> texts_;
    std::vector<TokenType> types_;
    std::vector<std::string> bytes_;                  // what each id decodes to
    std::unordered_map<std::string, TokenId> by_text_;  // the BPE model's vocabulary
    std::array<TokenId, 256> byte_token_{};          // the single-character token of each byte
    BpeMerges merges_;
    AddedTokenMatcher control_tokens_;
    AddedTokenMatcher user_tokens_;
    TokenId bos_id_ = -1;
    TokenId eos_id_ = -1;
    std::unique_ptr<BpeCache> cache_;

    friend class VocabBuilder;
};

// Opens a GGUF file and loads its vocabulary (ErrorCode::io or ErrorCode::model_format on failure).
Result<Vocab> load_vocab_from_gguf_file(const std::string & path);

}  // namespace moondream
