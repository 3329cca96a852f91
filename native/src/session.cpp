// The public session API: evaluate and generate on a TextContext.
#include "session.h"

#include <algorithm>
#include <chrono>

#include "sampler.h"
#include "try.h"

namespace moondream {

namespace {

double elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

Result<SessionPtr> create_session(std::shared_ptr<Model> model, const SessionParams & params) {
    if (!model) return Error{ErrorCode::disposed, "the model was disposed"};
    TextContextParams text;
    text.n_ctx = params.n_ctx;
    text.kv_type = params.kv_f32 ? GGML_TYPE_F32 : GGML_TYPE_F16;
    text.n_threads = params.n_threads;
    text.n_batch = params.n_batch;
    text.exact_gelu = params.exact_gelu;
    MD_ASSIGN_OR_RETURN(std::unique_ptr<TextContext> context, TextContext::create(model, text));
    SessionPtr session(new Session());
    session->model = std::move(model);
    session->params = params;
    session->text = std::move(context);
    return session;
}

void destroy_session(Session * session) { delete session; }

Result<std::vector<float>> evaluate_tokens(Session & session, const std::vector<int32_t> & tokens, const std::atomic<bool> * abort) {
    for (int32_t id : tokens) {
        if (id < 0) return Error{ErrorCode::invalid_argument, "token ids must be >= 0"};
    }
    session.text->rewind(0);
    std::vector<float> logits;
    MD_RETURN_IF_ERROR(session.text->append(tokens, nullptr, logits, abort));
    return logits;
}

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

    text.rewind(0);
    std::vector<float> logits;
    const auto prefill_start = std::chrono::steady_clock::now();
    MD_RETURN_IF_ERROR(text.append(prompt, nullptr, logits, abort));
    result.prefill_ms = elapsed_ms(prefill_start);

    const auto decode_start = std::chrono::steady_clock::now();
    std::vector<int32_t> next(1);
    for (int i = 0; i < params.max_tokens; ++i) {
        const int32_t token = sampler.sample(logits);
        sampler.accept(token);
        result.tokens.push_back(token);
        const bool keep_going = !on_token || on_token(token);
        if (std::find(params.stop_token_ids.begin(), params.stop_token_ids.end(), token) != params.stop_token_ids.end()) {
            result.stopped_by_token = true;
            break;
        }
        if (!keep_going || i + 1 == params.max_tokens) break;
        if (abort != nullptr && abort->load()) return Error{ErrorCode::aborted, "aborted"};
        next[0] = token;
        MD_RETURN_IF_ERROR(text.append(next, nullptr, logits, abort));
    }
    result.decode_ms = elapsed_ms(decode_start);
    return result;
}

}  // namespace moondream

namespace moondream {

Result<ImageEmbeddings> encode_image(Session & session, const float * pixels, size_t n_values, const std::atomic<bool> * abort) {
    if (!session.model->vision) {
        return Error{ErrorCode::invalid_argument, "this model was loaded without its mmproj file, so it cannot encode images"};
    }
    const VisionHparams & hp = session.model->vision->hp;
    const size_t expected = size_t(3) * size_t(hp.image_size) * size_t(hp.image_size);
    if (pixels == nullptr || n_values != expected) {
        return Error{ErrorCode::invalid_argument, "expected 3 x " + std::to_string(hp.image_size) + " x " +
                                                      std::to_string(hp.image_size) + " pixel values, received " + std::to_string(n_values)};
    }
    if (!session.vision) {
        MD_ASSIGN_OR_RETURN(session.vision, VisionEncoder::create(session.model, session.params.n_threads));
    }
    ImageEmbeddings out;
    const auto start = std::chrono::steady_clock::now();
    MD_RETURN_IF_ERROR(session.vision->encode(pixels, out.data, abort));
    out.encode_ms = elapsed_ms(start);
    out.n_embd = hp.n_proj_out;
    out.n_rows = int(out.data.size() / size_t(hp.n_proj_out));
    return out;
}

}  // namespace moondream
