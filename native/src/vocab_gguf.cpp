// Loading a Vocab from a GGUF file's tokenizer.ggml.* keys. A vocabulary comes from a file, and
// files can be wrong in any way, so every type, count, id and merge is checked here before it
// is used, and each problem is returned as a model_format error that names its key. ggml's typed
// getters abort on a type mismatch: each is called only after its type was checked.
#include <cstring>

#include "byte_level.h"
#include "gguf.h"
#include "gguf_file.h"
#include "gguf_names.h"
#include "utf8.h"
#include "moondream_tools.h"
#include "vocab.h"

namespace moondream {

namespace {

namespace tokenizer_keys = gguf::tokenizer_keys;

// Pre-tokenizer names (llama.cpp's tokenizer.ggml.pre) that mean GPT-2's regex, the only one
// implemented. A file without the key (older conversions, the published moondream2 GGUFs) gets it
// too; any other name would tokenize differently from what the model was trained on.
constexpr const char * kGpt2PreTokenizers[] = {gguf::values::gpt2_pre_tokenizer, gguf::values::pre_tokenizer};

Error bad(const std::string & key, const std::string & what) {
    return {ErrorCode::model_format, "Invalid tokenizer in GGUF: " + key + " " + what};
}

// A token text for a message: printable ASCII as is, other bytes escaped, long texts cut.
std::string quoted(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (size_t i = 0; i < text.size() && i < 48; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c >= 0x20 && c < 0x7F) {
            out += char(c);
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    if (text.size() > 48) out += "...";
    return out + "\"";
}

// "tokenizer.ggml.merges[12]": one element of an array key.
std::string at(const char * key, size_t index) { return std::string(key) + "[" + std::to_string(index) + "]"; }

std::string type_label(gguf_type type) { return gguf_type_label(static_cast<GgufType>(type)); }

std::string kind_of(const gguf_context * ctx, int64_t id) {
    const gguf_type type = gguf_get_kv_type(ctx, id);
    if (type != GGUF_TYPE_ARRAY) return "a " + type_label(type);
    return "an array of " + type_label(gguf_get_arr_type(ctx, id));
}

// The key's id, checked to be an array of `item`, or an error.
Result<int64_t> find_array(const gguf_context * ctx, const char * key, gguf_type item) {
    const int64_t id = gguf_find_key(ctx, key);
    if (id < 0) return bad(key, "is missing");
    if (gguf_get_kv_type(ctx, id) != GGUF_TYPE_ARRAY || gguf_get_arr_type(ctx, id) != item) {
        return bad(key, "must be an array of " + type_label(item) + " but is " + kind_of(ctx, id));
    }
    return id;
}

// The string value of a key, or an error; `required` false gives "" for a missing key.
Result<std::string> read_string(const gguf_context * ctx, const char * key, bool required) {
    const int64_t id = gguf_find_key(ctx, key);
    if (id < 0) {
        if (required) return bad(key, "is missing");
        return std::string();
    }
    if (gguf_get_kv_type(ctx, id) != GGUF_TYPE_STRING) return bad(key, "must be a string but is " + kind_of(ctx, id));
    return std::string(gguf_get_val_str(ctx, id));
}

// A token id stored as uint32 (as llama.cpp writes it), checked against the vocabulary size.
// Gives -1 for a missing optional key.
Result<TokenId> read_token_id(const gguf_context * ctx, const char * key, bool required, size_t n_tokens) {
    const int64_t id = gguf_find_key(ctx, key);
    if (id < 0) {
        if (required) return bad(key, "is missing");
        return TokenId(-1);
    }
    if (gguf_get_kv_type(ctx, id) != GGUF_TYPE_UINT32) return bad(key, "must be a uint32 but is " + kind_of(ctx, id));
    const uint32_t value = gguf_get_val_u32(ctx, id);
    if (value >= n_tokens) {
        return bad(key, "is " + std::to_string(value) + ", outside the " + std::to_string(n_tokens) + " tokens of " + tokenizer_keys::tokens);
    }
    return TokenId(value);
}

}  // namespace

// Builds a Vocab step by step; each step returns the first problem it finds.
class VocabBuilder {
public:
    explicit VocabBuilder(const gguf_context * ctx) : ctx_(ctx) {}

    Result<Vocab> build() {
        if (auto e = check_model()) return *e;
        if (auto e = read_tokens()) return *e;
        if (auto e = read_types()) return *e;
        if (auto e = index_tokens()) return *e;
        if (auto e = read_merges()) return *e;
        if (auto e = read_special_ids()) return *e;
        add_added_tokens();
        compute_bytes();
        return std::move(vocab_);
    }

private:
    std::optional<Error> check_model() {
        Result<std::string> model = read_string(ctx_, tokenizer_keys::model, true);
        if (!model.ok()) return model.error();
        if (model.value() != gguf::values::tokenizer_model) {
            return bad(tokenizer_keys::model, "is " + quoted(model.value()) + "; only \"" + gguf::values::tokenizer_model +
                                   "\" (byte-level BPE, the tokenizer of moondream) is supported");
        }
        Result<std::string> pre = read_string(ctx_, tokenizer_keys::pre, false);
        if (!pre.ok()) return pre.error();
        if (pre.value().empty()) return std::nullopt;
        for (const char * name : kGpt2PreTokenizers) {
            if (pre.value() == name) return std::nullopt;
        }
        return bad(tokenizer_keys::pre, "is " + quoted(pre.value()) + "; only GPT-2's pre-tokenizer is implemented (\"" +
                             gguf::values::gpt2_pre_tokenizer + "\", \"" + gguf::values::pre_tokenizer + "\", or no key)");
    }

    std::optional<Error> read_tokens() {
        Result<int64_t> id = find_array(ctx_, tokenizer_keys::tokens, GGUF_TYPE_STRING);
        if (!id.ok()) return id.error();
        const size_t n = gguf_get_arr_n(ctx_, id.value());
        if (n == 0) return bad(tokenizer_keys::tokens, "is empty");
        if (n > size_t(INT32_MAX)) return bad(tokenizer_keys::tokens, "has " + std::to_string(n) + " tokens, more than token ids can address");
        vocab_.texts_.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            std::string text = gguf_get_arr_str(ctx_, id.value(), i);
            if (!utf8::is_valid(text)) {
                return bad(at(tokenizer_keys::tokens, i), quoted(text) + " is not valid UTF-8");
            }
            vocab_.texts_.push_back(std::move(text));
        }
        return std::nullopt;
    }

    std::optional<Error> read_types() {
        Result<int64_t> id = find_array(ctx_, tokenizer_keys::token_type, GGUF_TYPE_INT32);
        if (!id.ok()) return id.error();
        const size_t n = gguf_get_arr_n(ctx_, id.value());
        if (n != vocab_.texts_.size()) {
            return bad(tokenizer_keys::token_type, "has " + std::to_string(n) + " entries but " + tokenizer_keys::tokens + " has " +
                                       std::to_string(vocab_.texts_.size()) + "; they must be equal");
        }
        const auto * data = static_cast<const char *>(gguf_get_arr_data(ctx_, id.value()));
        vocab_.types_.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            int32_t type;
            std::memcpy(&type, data + 4 * i, 4);
            if (type < int32_t(TokenType::normal) || type > int32_t(TokenType::byte)) {
                return bad(at(tokenizer_keys::token_type, i), "is " + std::to_string(type) +
                                                  ", not a token type (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte)");
            }
            vocab_.types_.push_back(static_cast<TokenType>(type));
        }
        return std::nullopt;
    }

    // The BPE model's vocabulary: every token but the unused fillers, which no merge may reach.
    // A text given twice keeps its first id.
    std::optional<Error> index_tokens() {
        const size_t n = vocab_.texts_.size();
        vocab_.by_text_.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            if (vocab_.types_[i] == TokenType::unused) continue;
            vocab_.by_text_.emplace(vocab_.texts_[i], TokenId(i));
        }
        // Byte-level BPE starts every piece from single-byte tokens, so all 256 must exist.
        for (int b = 0; b < 256; ++b) {
            std::string text;
            utf8::append(text, byte_level::char_of_byte(uint8_t(b)));
            const auto it = vocab_.by_text_.find(text);
            if (it == vocab_.by_text_.end()) {
                static constexpr char kHex[] = "0123456789abcdef";
                return bad(tokenizer_keys::tokens, std::string("has no token for byte 0x") + kHex[b >> 4] + kHex[b & 15] + " (" +
                                        quoted(text) + "), which byte-level BPE needs");
            }
            vocab_.byte_token_[size_t(b)] = it->second;
        }
        return std::nullopt;
    }

    std::optional<Error> read_merges() {
        Result<int64_t> id = find_array(ctx_, tokenizer_keys::merges, GGUF_TYPE_STRING);
        if (!id.ok()) return id.error();
        const size_t n = gguf_get_arr_n(ctx_, id.value());
        if (n > size_t(INT32_MAX)) return bad(tokenizer_keys::merges, "has " + std::to_string(n) + " merges, more than ranks can address");
        const auto lookup = [&](const std::string & text) {
            const auto it = vocab_.by_text_.find(text);
            return it == vocab_.by_text_.end() ? TokenId(-1) : it->second;
        };
        std::string joined;
        for (size_t i = 0; i < n; ++i) {
            const std::string_view merge = gguf_get_arr_str(ctx_, id.value(), i);
            const std::string where = at(tokenizer_keys::merges, i);
            const std::string shown = quoted(merge);
            const size_t space = merge.find(' ');
            if (space == std::string_view::npos || space == 0 || space + 1 == merge.size() ||
                merge.find(' ', space + 1) != std::string_view::npos) {
                return bad(where, shown + " is not two tokens separated by one space");
            }
            const std::string left(merge.substr(0, space));
            const std::string right(merge.substr(space + 1));
            joined = left + right;
            const TokenId left_id = lookup(left);
            const TokenId right_id = lookup(right);
            const TokenId result_id = lookup(joined);
            if (left_id < 0) return bad(where, shown + " uses " + quoted(left) + ", which is not in " + tokenizer_keys::tokens);
            if (right_id < 0) return bad(where, shown + " uses " + quoted(right) + ", which is not in " + tokenizer_keys::tokens);
            if (result_id < 0) return bad(where, shown + " makes " + quoted(joined) + ", which is not in " + tokenizer_keys::tokens);
            vocab_.merges_.add(left_id, right_id, int32_t(i), result_id);
        }
        return std::nullopt;
    }

    std::optional<Error> read_special_ids() {
        const size_t n = vocab_.texts_.size();
        Result<TokenId> bos = read_token_id(ctx_, tokenizer_keys::bos_token_id, true, n);
        if (!bos.ok()) return bos.error();
        Result<TokenId> eos = read_token_id(ctx_, tokenizer_keys::eos_token_id, true, n);
        if (!eos.ok()) return eos.error();
        // Not used by this tokenizer, but a wrong value is a broken file all the same.
        for (const char * key : {tokenizer_keys::unknown_token_id, tokenizer_keys::padding_token_id}) {
            Result<TokenId> other = read_token_id(ctx_, key, false, n);
            if (!other.ok()) return other.error();
        }
        const int64_t add_bos = gguf_find_key(ctx_, tokenizer_keys::add_bos_token);
        if (add_bos >= 0 && gguf_get_kv_type(ctx_, add_bos) != GGUF_TYPE_BOOL) {
            return bad(tokenizer_keys::add_bos_token, "must be a bool but is " + kind_of(ctx_, add_bos));
        }
        vocab_.bos_id_ = bos.value();
        vocab_.eos_id_ = eos.value();
        return std::nullopt;
    }

    void add_added_tokens() {
        for (size_t i = 0; i < vocab_.texts_.size(); ++i) {
            if (vocab_.types_[i] == TokenType::control) vocab_.control_tokens_.add(vocab_.texts_[i], TokenId(i));
            if (vocab_.types_[i] == TokenType::user_defined) vocab_.user_tokens_.add(vocab_.texts_[i], TokenId(i));
        }
    }

    // What each id decodes to, as HF's ByteLevel decoder does it: the byte-level alphabet undone,
    // or the token's own UTF-8 when it has a character outside the alphabet ("  ", "\t\t").
    void compute_bytes() {
        vocab_.bytes_.reserve(vocab_.texts_.size());
        for (size_t i = 0; i < vocab_.texts_.size(); ++i) {
            if (vocab_.types_[i] == TokenType::unused) {
                vocab_.bytes_.emplace_back();
                continue;
            }
            std::optional<std::string> bytes = byte_level::decode(vocab_.texts_[i]);
            vocab_.bytes_.push_back(bytes ? std::move(*bytes) : vocab_.texts_[i]);
        }
    }

    const gguf_context * ctx_;
    Vocab vocab_;
};

Result<Vocab> Vocab::from_gguf(const gguf_context * ctx) {
    return VocabBuilder(ctx).build();
}

Result<Vocab> load_vocab_from_gguf_file(const std::string & path) {
    Result<GgufFile> opened = open_gguf(path, /*with_tensors=*/false);
    if (!opened.ok()) return opened.error();
    Result<Vocab> vocab = Vocab::from_gguf(opened.value().gguf.get());
    if (!vocab.ok()) return Error{vocab.error().code, "'" + path + "': " + vocab.error().message};
    return vocab;
}

}  // namespace moondream
