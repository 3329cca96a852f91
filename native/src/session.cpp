// The public session API: evaluate and generate on a TextContext.
#include "session.h"

#include <algorithm>
#include <chrono>

#include "answer_stream.h"
#include "sampler.h"
#include "try.h"

namespace moondream {

namespace {

double elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

namespace {

// The KV cache is about to be overwritten from position 0: keep the image prefix it still holds
// (if any) in the LRU first. Snapshots are taken only here, when a prefix is actually displaced,
// so asking about one image never pays for a copy of its 144 MB prefix.
void stash_live_prefix(Session & session) {
    if (!session.live_prefix) return;
    const KvCache & kv = session.text->kv();
    const size_t bytes = kv.prefix_bytes(session.live_prefix_positions);
    // With no room for it at all (the bulk runner's sessions keep none), copying would be waste.
    if (session.prefixes->can_keep(bytes) && session.prefixes->find(*session.live_prefix) == nullptr) {
        AnonymousPages recycled = session.prefixes->make_room(bytes);
        session.prefixes->insert(*session.live_prefix, kv.save_prefix(session.live_prefix_positions, std::move(recycled)));
    }
    session.live_prefix.reset();
}

}  // namespace

Result<SessionPtr> create_session(std::shared_ptr<Model> model, const SessionParams & params) {
    if (!model) return Error{ErrorCode::disposed, "the model was disposed"};
    TextContextParams text;
    text.n_ctx = params.n_ctx;
    text.kv_type = params.kv_f32 ? GGML_TYPE_F32 : GGML_TYPE_F16;
    text.n_batch = params.n_batch;
    text.exact_gelu = params.exact_gelu;
    text.flash_attention = params.flash_attention;
    MD_ASSIGN_OR_RETURN(std::unique_ptr<TextContext> context, TextContext::create(model, text));
    SessionPtr session(new Session());
    session->model = std::move(model);
    session->params = params;
    session->text = std::move(context);
    session->prefixes = std::make_unique<PrefixCache>(params.prefix_cache_bytes);
    return session;
}

void destroy_session(Session * session) { delete session; }

SessionInfo describe_session(const Session & session) {
    SessionInfo info;
    info.n_ctx = session.text->capacity();
    info.kv_cache_bytes = session.text->kv().bytes();
    info.compute_bytes = session.text->compute_bytes();
    info.prefix_cache_bytes = session.prefixes->bytes();
    info.prefix_cache_entries = int(session.prefixes->size());
    return info;
}

Result<std::vector<float>> evaluate_tokens(Session & session, const std::vector<int32_t> & tokens, const float * rows, size_t n_rows,
                                           const std::atomic<bool> * abort) {
    size_t markers = 0;
    for (int32_t id : tokens) {
        if (id == kEmbeddingRow) {
            ++markers;
        } else if (id < 0) {
            return Error{ErrorCode::invalid_argument, "token ids must be >= 0 (or -1 for an image row)"};
        }
    }
    if (markers != n_rows) {
        return Error{ErrorCode::invalid_argument, std::to_string(markers) + " image-row markers but " + std::to_string(n_rows) + " rows given"};
    }
    stash_live_prefix(session);
    session.text->rewind(0);
    std::vector<float> logits;
    MD_RETURN_IF_ERROR(session.text->append(tokens, n_rows > 0 ? rows : nullptr, logits, abort));
    return logits;
}

namespace {

// Samples up to params.max_tokens tokens from `logits` on, appending each to the context.
// `on_token` returns false to stop early.
Status decode_loop(TextContext & text, Sampler & sampler, std::vector<float> & logits, const GenerateParams & params,
                   const std::function<bool(int32_t)> & on_token, std::vector<int32_t> & tokens, bool & stopped_by_token,
                   const std::atomic<bool> * abort) {
    std::vector<int32_t> next(1);
    for (int i = 0; i < params.max_tokens; ++i) {
        const int32_t token = sampler.sample(logits);
        sampler.accept(token);
        tokens.push_back(token);
        const bool keep_going = !on_token || on_token(token);
        if (std::find(params.stop_token_ids.begin(), params.stop_token_ids.end(), token) != params.stop_token_ids.end()) {
            stopped_by_token = true;
            break;
        }
        if (!keep_going || i + 1 == params.max_tokens) break;
        if (abort != nullptr && abort->load()) return Error{ErrorCode::aborted, "aborted"};
        next[0] = token;
        if (Status status = text.append(next, nullptr, logits, abort)) return status;
    }
    return std::nullopt;
}

}  // namespace

Result<GenerateResult> generate_tokens(Session & session, const std::vector<int32_t> & prompt, const GenerateParams & params,
                                       const TokenCallback & on_token, const std::atomic<bool> * abort) {
    MD_RETURN_IF_ERROR(validate_sampling(params.sampling));
    if (params.max_tokens < 0) return Error{ErrorCode::invalid_argument, "maxTokens must be >= 0"};
    for (int32_t id : prompt) {
        if (id < 0) return Error{ErrorCode::invalid_argument, "token ids must be >= 0"};
    }
    TextContext & text = *session.text;
    if (int64_t(prompt.size()) + params.max_tokens > text.capacity()) {
        return Error{ErrorCode::context_overflow, "the prompt (" + std::to_string(prompt.size()) + " tokens) plus " +
                                                      std::to_string(params.max_tokens) + " new tokens exceed the context of " +
                                                      std::to_string(text.capacity()) + " positions"};
    }
    GenerateResult result;
    result.prompt_tokens = int(prompt.size());
    Sampler sampler(params.sampling);
    for (int32_t id : prompt) sampler.accept(id);

    stash_live_prefix(session);  // the cache is about to hold something else
    text.rewind(0);
    std::vector<float> logits;
    const auto prefill_start = std::chrono::steady_clock::now();
    MD_RETURN_IF_ERROR(text.append(prompt, nullptr, logits, abort));
    result.prefill_ms = elapsed_ms(prefill_start);

    const auto decode_start = std::chrono::steady_clock::now();
    MD_RETURN_IF_ERROR(decode_loop(text, sampler, logits, params, on_token, result.tokens, result.stopped_by_token, abort));
    result.decode_ms = elapsed_ms(decode_start);
    return result;
}

Result<AnswerResult> answer_question(Session & session, const AnswerRequest & request, const PieceCallback & on_piece,
                                     const std::atomic<bool> * abort) {
    const GenerateParams & params = request.params;
    MD_RETURN_IF_ERROR(validate_sampling(params.sampling));
    if (params.max_tokens < 0) return Error{ErrorCode::invalid_argument, "maxTokens must be >= 0"};
    TextContext & text = *session.text;
    const TextHparams & hp = text.hparams();
    if (request.n_rows < 0 || (request.n_rows > 0 && request.rows == nullptr)) {
        return Error{ErrorCode::invalid_argument, "image rows are missing"};
    }
    for (const auto * part : {&request.prefix_tokens, &request.suffix_tokens}) {
        for (int32_t id : *part) {
            if (id < 0 || id >= hp.n_vocab) return Error{ErrorCode::invalid_argument, "token id " + std::to_string(id) + " is outside the vocabulary"};
        }
    }
    const int prefix_positions = int(request.prefix_tokens.size()) + request.n_rows;
    const int prompt_positions = prefix_positions + int(request.suffix_tokens.size());
    if (int64_t(prompt_positions) + params.max_tokens > text.capacity()) {
        return Error{ErrorCode::context_overflow, "the prompt (" + std::to_string(prompt_positions) + " positions, " +
                                                      std::to_string(request.n_rows) + " of them image rows) plus " +
                                                      std::to_string(params.max_tokens) + " new tokens exceed the context of " +
                                                      std::to_string(text.capacity()) + " positions; ask a shorter question or lower maxTokens"};
    }

    AnswerResult result;
    result.prompt_positions = prompt_positions;
    std::vector<float> logits;
    const auto prefill_start = std::chrono::steady_clock::now();

    // 1. The image prefix: still in the cache, kept from earlier, or computed now.
    PrefixKey key{request.image_id, request.prefix_tokens};
    const bool reusable = request.image_id != 0;
    if (reusable && session.live_prefix && *session.live_prefix == key) {
        text.rewind(session.live_prefix_positions);
        result.reused_positions = prefix_positions;
    } else if (std::optional<KvSnapshot> kept = reusable ? session.prefixes->take(key) : std::nullopt) {
        // Taken out first: stashing the live prefix must not drop the one about to be restored
        // (with room for a single snapshot it did, and the answer failed).
        stash_live_prefix(session);
        text.kv().restore_prefix(*kept);
        text.rewind(0);
        text.advance(kept->positions);
        session.live_prefix = key;
        session.live_prefix_positions = kept->positions;
        result.reused_positions = prefix_positions;
        // It stays kept too, most recently used, where it fits beside the others; else the live
        // cache holds it, and it is copied out again when displaced.
        session.prefixes->insert_if_room(key, std::move(*kept));
    } else {
        stash_live_prefix(session);
        text.rewind(0);
        std::vector<int32_t> entries = request.prefix_tokens;
        entries.insert(entries.end(), size_t(request.n_rows), kEmbeddingRow);
        if (!entries.empty()) MD_RETURN_IF_ERROR(text.append(entries, request.rows, logits, abort));
        if (reusable) {
            session.live_prefix = key;
            session.live_prefix_positions = prefix_positions;
        }
    }

    // 2. The question.
    if (request.suffix_tokens.empty() && logits.empty()) {
        return Error{ErrorCode::invalid_argument, "the prompt has no tokens after the image"};
    }
    if (!request.suffix_tokens.empty()) MD_RETURN_IF_ERROR(text.append(request.suffix_tokens, nullptr, logits, abort));
    result.prefill_ms = elapsed_ms(prefill_start);

    // 3. The answer, streamed as certain pieces.
    Sampler sampler(params.sampling);
    for (int32_t id : request.suffix_tokens) sampler.accept(id);
    AnswerStream stream(model_tokenizer(*session.model), request.strip_suffixes);
    // Stop tokens go through the stream too: "<" and "END" are held back and stripped by the
    // post-processing, while a ">" stays in the answer, as in moondream1.
    auto on_token = [&](int32_t token) {
        std::string piece = stream.push(token);
        if (!piece.empty() && on_piece) on_piece(piece);
        return true;
    };
    const auto decode_start = std::chrono::steady_clock::now();
    MD_RETURN_IF_ERROR(decode_loop(text, sampler, logits, params, on_token, result.tokens, result.stopped_by_token, abort));
    result.decode_ms = elapsed_ms(decode_start);
    std::string tail = stream.finish();
    if (!tail.empty() && on_piece) on_piece(tail);
    result.text = stream.text();
    return result;
}

}  // namespace moondream
