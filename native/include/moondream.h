// moondream-ggml runtime API: load a model, open a session, encode an image, answer a question.
// Plain C++17, no Node types: a C++ program embeds the runtime with this header alone (see
// native/test/runtime_smoke.cpp). The N-API layer (native/addon) only translates these values to
// JavaScript. Errors are returned as values, never thrown across this boundary, so a bad file or
// argument can always become a typed JS error instead of an abort.
//
// Two more headers build on this one: moondream_tools.h (ggml build facts, GGUF inspection,
// quantization, the machine probe: the converter, CLI and benchmark) and moondream_testing.h
// (kernel self-checks and the pieces of answering exposed so tests can check them one by one).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace moondream {

// Stable error codes; their names (ERR_*) are part of the public JS API.
enum class ErrorCode {
    invalid_argument,
    model_format,
    io,
    out_of_memory,
    aborted,
    disposed,
    context_overflow,
    image_decode,
    internal,
};

// "ERR_MODEL_FORMAT" etc.
const char * error_code_name(ErrorCode code);

struct Error {
    ErrorCode code;
    std::string message;
};

// A value or an error. Deliberately small: this is the only error channel of the API.
template <typename T>
class Result {
public:
    Result(T value) : state_(std::move(value)) {}
    Result(Error error) : state_(std::move(error)) {}

    bool ok() const { return std::holds_alternative<T>(state_); }
    T & value() { return std::get<T>(state_); }
    const T & value() const { return std::get<T>(state_); }
    const Error & error() const { return std::get<Error>(state_); }

private:
    std::variant<T, Error> state_;
};

// No value, or the error: what operations that only succeed or fail return.
using Status = std::optional<Error>;

// Physical cores of this machine (hyper-threads not counted); at least 1. The default thread count.
int physical_core_count();

// ---- models ------------------------------------------------------------------------------------

struct TextHparams {
    int n_vocab = 0;     // embedding rows
    int n_embd = 0;
    int n_layer = 0;
    int n_head = 0;
    int n_ff = 0;
    int n_ctx_train = 0;
    int n_rot = 0;       // rotary dimensions per head (NeoX style, the first n_rot)
    float norm_eps = 0;
    float rope_base = 0;
};

enum class Gelu { erf, tanh };
// How an image is brought to the vision input's square. Only stretch (moondream1's: no crop, no
// padding) exists; a file asking for anything else fails to load with ERR_MODEL_FORMAT.
enum class ResizeMode { stretch };

struct VisionHparams {
    int image_size = 0;
    int patch_size = 0;
    int n_embd = 0;
    int n_head = 0;
    int n_ff = 0;
    int n_block_file = 0;  // blocks stored in the file
    int n_block_run = 0;   // blocks the graph runs (moondream2 files carry one unused copy)
    int n_proj_inner = 0;
    int n_proj_out = 0;    // must equal the text model's n_embd
    float norm_eps = 0;
    float mean[3] = {0, 0, 0};
    float std[3] = {1, 1, 1};
    bool ffn_names_swapped = false;  // legacy llava naming: ffn_down holds fc1
};

// How the model is prompted and stopped; from the moondream.* keys, or the moondream2 GGUF
// semantics for files without them (design §3).
struct PromptProfile {
    std::string name;             // "moondream1" or "moondream2-gguf"
    std::string template_text;    // "{image}" marks the image rows; "{history}", "{question}"
    std::string history_turn;     // "{question}", "{answer}"
    std::string caption_question;
    int bos_token_id = -1;        // -1: no BOS
    std::vector<int> stop_token_ids;
    int max_new_tokens = 0;
    std::vector<std::string> strip_suffixes;
    std::string license;
    std::string revision;
};

struct VisionProfile {
    Gelu vision_gelu = Gelu::erf;
    Gelu projector_gelu = Gelu::erf;
    ResizeMode resize = ResizeMode::stretch;
};

struct LoadParams {
    std::string text_path;
    std::string mmproj_path;  // empty: text model only
    // The model's compute budget: every session and the vision encoder share one pool of this
    // many threads, and take turns on it graph by graph. 0: the physical core count.
    int n_threads = 0;
    // Matmul weights ggml has a faster CPU layout for (its CPU_REPACK buffer type) are copied into
    // it at load. false keeps them memory-mapped as stored (less memory, slower prefill).
    // The environment variable MOONDREAM_DISABLE_REPACK (any value) overrides this to false.
    bool repack_weights = true;
    // q8_0 and q4_0 matmul weights are repacked for our AVX-512 VNNI kernel on CPUs that have it
    // (elsewhere this does nothing). false leaves them to ggml's kernels. The environment variable
    // MOONDREAM_DISABLE_VNNI_MATRIX (any value) overrides this to false.
    bool vnni_kernel = true;
    // Where the weights repacked for our kernels are kept between loads, one file per model file,
    // CPU layout and path (packed_cache.h): a load that finds a matching file maps it instead of
    // repacking. Empty: no cache (every load repacks). The environment variable
    // MOONDREAM_DISABLE_PACKED_CACHE (any value) overrides this to empty.
    std::string packed_cache_dir;
    // Diagnostics: every graph computes node by node and each op's time is added up (take_op_profile).
    // Results are unchanged; each node costs a thread-pool wake-up more.
    bool profile_ops = false;
    // After each image encode, hand the vision weights' mapped pages back to the system (they stay
    // in its page cache). The answer that follows then runs without them resident (about 840 MB
    // less for moondream1's f16 mmproj), and the next encode maps them back: about 0.2 s of page
    // faults on the VMs we measure on, 8% of an f16 encode. false keeps them mapped.
    bool release_vision_weights = false;
};

struct ModelInfo {
    TextHparams text;
    PromptProfile prompt;
    bool has_vision = false;
    VisionHparams vision;
    VisionProfile vision_profile;
    size_t mapped_bytes = 0;
    size_t repacked_bytes = 0;  // weights copied into repacked layouts at load (ggml's and our VNNI kernel's)
    // What the packed-weight cache did for each file at load (MatmulWeights::packed_cache_use):
    // "" when unused, "loaded <file>", "written <file> (<why>)" or "not written: <why>".
    std::string text_packed_cache;
    std::string vision_packed_cache;
    int threads = 0;            // the compute pool's threads
    size_t vision_compute_bytes = 0;  // the shared vision encoder's buffers (0 until the first image)
};

// A loaded model: immutable weights, shareable between sessions and threads.
class Model;

// Opens, validates and memory-maps the text model (and the mmproj when given). Fails with
// ERR_IO / ERR_MODEL_FORMAT naming the file, key or tensor at fault.
Result<std::shared_ptr<Model>> load_model(const LoadParams & params);
ModelInfo describe_model(const Model & model);
class Tokenizer;
// The text model's embedding width (what image rows must match).
int model_width(const Model & model);
// The text model's tokenizer (shares its vocabulary with the model).
const Tokenizer & model_tokenizer(const Model & model);

// One op's share of a profiled model's compute (LoadParams::profile_ops): the graph it ran in
// ("vision graph", "prefill graph", "decode graph"), ggml's op name or our kernel's name, its
// summed wall time and how many nodes ran.
struct OpTime {
    std::string graph;
    std::string op;
    double ms = 0;
    int64_t count = 0;
};
// The totals since load or the last call, and a fresh start; empty unless loaded with profile_ops.
std::vector<OpTime> take_op_profile(Model & model);

// ---- text generation -------------------------------------------------------------------------

struct SamplingParams {
    float temperature = 0.0f;     // <= 0: greedy (argmax)
    int top_k = 0;                // 0: off
    float top_p = 1.0f;           // 1: off
    float min_p = 0.0f;           // 0: off
    float repeat_penalty = 1.0f;  // 1: off; HF semantics (divide positive logits, multiply negative)
    int repeat_last_n = 64;       // how many previous tokens the penalty looks at
    uint64_t seed = 0;
};

struct SessionParams {
    int n_ctx = 2048;
    bool kv_f32 = false;   // f16 by default
    int n_batch = 256;
    bool exact_gelu = false;  // true: f32 tanh GELU as the reference; false: ggml's f16 table, as llama.cpp
    size_t prefix_cache_bytes = size_t(1) << 30;  // image prompt prefixes kept for reuse
    bool flash_attention = true;  // text attention through ggml's flash attention kernel
};

// A conversation's state on a model: KV cache, compute buffers, kept image prefixes. Not
// thread-safe: calls on one session must be serialised. Sessions of one model may be used from
// different threads at once; their graph computes take turns on the model's compute pool.
class Session;

void destroy_session(Session * session);
struct SessionDeleter {
    void operator()(Session * session) const { destroy_session(session); }
};
using SessionPtr = std::unique_ptr<Session, SessionDeleter>;

Result<SessionPtr> create_session(std::shared_ptr<Model> model, const SessionParams & params);

// What a session holds on top of the shared weights.
struct SessionInfo {
    int n_ctx = 0;
    size_t kv_cache_bytes = 0;      // allocated for n_ctx positions
    size_t compute_bytes = 0;       // the text graphs' buffers (grow to their largest shape)
    size_t prefix_cache_bytes = 0;  // kept image prompt prefixes
    int prefix_cache_entries = 0;
    size_t total_bytes() const { return kv_cache_bytes + compute_bytes + prefix_cache_bytes; }
};

SessionInfo describe_session(const Session & session);

// Logits of the last position after evaluating `tokens` from an empty cache. An entry of -1 takes
// the next row of `rows` (n_embd floats each) instead of a token embedding.
Result<std::vector<float>> evaluate_tokens(Session & session, const std::vector<int32_t> & tokens, const float * rows, size_t n_rows,
                                           const std::atomic<bool> * abort);

struct GenerateParams {
    int max_tokens = 256;
    SamplingParams sampling;
    std::vector<int32_t> stop_token_ids;  // generation ends after emitting one of these
};

struct GenerateResult {
    std::vector<int32_t> tokens;  // generated, stop token included
    bool stopped_by_token = false;
    double prefill_ms = 0;
    double decode_ms = 0;
    int prompt_tokens = 0;
};

// Called once per generated token, in order; return false to stop early.
using TokenCallback = std::function<bool(int32_t token)>;

// Prefills `prompt` from an empty cache, then samples up to max_tokens tokens.
Result<GenerateResult> generate_tokens(Session & session, const std::vector<int32_t> & prompt, const GenerateParams & params,
                                       const TokenCallback & on_token, const std::atomic<bool> * abort);

// ---- answering about an image ------------------------------------------------------------------

struct AnswerRequest {
    uint64_t image_id = 0;               // identifies `rows` for prefix reuse; 0 never reuses
    const float * rows = nullptr;        // n_rows x n_embd image embeddings
    int n_rows = 0;
    std::vector<int32_t> prefix_tokens;  // before the rows: BOS and "<image>"
    std::vector<int32_t> suffix_tokens;  // after the rows: "</image>", history, question
    GenerateParams params;
    std::vector<std::string> strip_suffixes;  // answer post-processing (profile)
};

struct AnswerResult {
    std::string text;              // post-processed answer
    std::vector<int32_t> tokens;   // generated, stop token included
    bool stopped_by_token = false;
    int prompt_positions = 0;      // prefix + rows + suffix
    int reused_positions = 0;      // of those, taken from a kept prefix instead of computed
    double prefill_ms = 0;
    double decode_ms = 0;
};

// Called with each piece of answer text as it becomes certain; the pieces concatenate to
// AnswerResult::text.
using PieceCallback = std::function<void(const std::string & piece)>;

// Prompt = prefix tokens + image rows + suffix tokens; generation with stop tokens and streaming
// pieces. The KV state after the prefix and rows is kept (bounded LRU) and reused when the same
// image is asked again, so only the suffix is prefilled.
Result<AnswerResult> answer_question(Session & session, const AnswerRequest & request, const PieceCallback & on_piece,
                                     const std::atomic<bool> * abort);

// ---- images ------------------------------------------------------------------------------------

struct ImageEmbeddings {
    std::vector<float> data;  // n_rows x n_embd, row per image patch
    int n_rows = 0;
    int n_embd = 0;
    double encode_ms = 0;
};

// Encodes normalised CHW pixels (3 x image_size x image_size floats) with the vision tower and
// projector into rows the text model takes as input embeddings.
// The rows belong to the model, not to a session: any session of the model can be asked about
// them. One image is encoded at a time per model (the encoder's buffers are shared).
Result<ImageEmbeddings> encode_image(Model & model, const float * pixels, size_t n_values, const std::atomic<bool> * abort);
// The same, through a session's model.
Result<ImageEmbeddings> encode_image(Session & session, const float * pixels, size_t n_values, const std::atomic<bool> * abort);

// ---- image preprocessing (spec: moondream1 §3) ---------------------------------------------------

// The vision input: an image_size x image_size RGB image (stretched: no crop, no padding), each
// channel c normalised as (v / 255 - mean[c]) / std[c]. The mmproj's clip.vision.image_size,
// image_mean and image_std give the values (moondream1: 378, 0.5, 0.5).
struct PreprocessParams {
    int image_size = 0;
    float mean[3] = {0, 0, 0};
    float std[3] = {1, 1, 1};
};

// A vision model's preprocessing: preprocess_params(describe_model(model).vision).
PreprocessParams preprocess_params(const VisionHparams & vision);

// Bounds on the sizes the resampler accepts. A side above max_resample_side is rejected before
// anything is allocated; the output is capped because its accumulators are 12 bytes per pixel.
constexpr int64_t max_resample_side = int64_t(1) << 24;
constexpr int64_t max_resample_output_pixels = int64_t(1) << 24;

// Pillow's resize((image_size, image_size), BICUBIC) of 8-bit RGB, then torch's
// ToDtype(float32, scale=True) and Normalize(mean, std), bit for bit. `rgb` holds width*height
// pixels, 3 bytes each, row by row. Returns 3 * image_size^2 floats, channel planes R, G, B.
// ERR_INVALID_ARGUMENT for impossible sizes or params, ERR_OUT_OF_MEMORY when memory runs out.
Result<std::vector<float>> preprocess_rgb(const uint8_t * rgb, size_t size, int64_t width, int64_t height,
                                          const PreprocessParams & params);

// preprocess_rgb with the model's params, then encode_image: raw RGB in, image rows out.
Result<ImageEmbeddings> encode_rgb(Model & model, const uint8_t * rgb, size_t size, int64_t width, int64_t height,
                                   const std::atomic<bool> * abort);
// The same, through a session's model.
Result<ImageEmbeddings> encode_rgb(Session & session, const uint8_t * rgb, size_t size, int64_t width, int64_t height,
                                   const std::atomic<bool> * abort);

// ---- prompts -----------------------------------------------------------------------------------

struct ChatTurn {
    std::string question;
    std::string answer;
};

// The tokens around the image rows: AnswerRequest::prefix_tokens and suffix_tokens.
struct PromptTokens {
    std::vector<int32_t> prefix;
    std::vector<int32_t> suffix;
};

// The model's prompt (spec §7.1-7.2) for `question` after `history`: BOS and the template's text
// before {image} tokenized as one segment, the text after it (history turns, question) as another,
// so no token spans the image. Placeholders are filled in one pass: braces in user text stay text.
PromptTokens build_prompt(const Model & model, std::string_view question, const std::vector<ChatTurn> & history = {});

// ---- Tokenizer ---------------------------------------------------------------------------------

class Vocab;  // native/src/vocab.h

// moondream1's tokenizer (CodeGen: GPT-2 byte-level BPE plus added whitespace tokens), with the
// exact behaviour of HF's CodeGenTokenizerFast. Immutable, so safe to share between threads;
// copies share one vocabulary.
class Tokenizer {
public:
    // Loads the vocabulary of a GGUF file (its tokenizer.ggml.* keys). ErrorCode::io when the file
    // cannot be read, ErrorCode::model_format when the file or its vocabulary is invalid.
    static Result<Tokenizer> from_gguf_file(const std::string & path);

    explicit Tokenizer(std::shared_ptr<const Vocab> vocab);

    // Number of token ids, unused filler rows included (the model's embedding rows).
    int32_t vocab_size() const;
    int32_t bos_id() const;
    int32_t eos_id() const;

    // Token ids of `text`, no BOS added. Invalid UTF-8 is first replaced by U+FFFD, one per
    // maximal invalid subsequence: the string HF would have been given.
    std::vector<int32_t> tokenize(std::string_view text) const;

    // The text of `ids` (valid UTF-8; bytes that do not form UTF-8 become U+FFFD). Ids outside
    // [0, vocab_size()) and unused ids decode to nothing; control tokens (<|endoftext|>) too when
    // skip_special is set.
    std::string detokenize(const int32_t * ids, size_t count, bool skip_special = false) const;
    std::string detokenize(const std::vector<int32_t> & ids, bool skip_special = false) const {
        return detokenize(ids.data(), ids.size(), skip_special);
    }

    const Vocab & vocab() const { return *vocab_; }

private:
    std::shared_ptr<const Vocab> vocab_;
};

// Detokenizes one id at a time and returns only whole UTF-8 characters: a character whose bytes
// are split across tokens comes out once, complete, with the token that finishes it. Everything
// push() and finish() return, concatenated, equals Tokenizer::detokenize of the same ids.
class StreamingDetokenizer {
public:
    explicit StreamingDetokenizer(Tokenizer tokenizer, bool skip_special = false);

    std::string push(int32_t id);
    // Ends the stream: an unfinished character comes out as U+FFFD. The detokenizer is then empty
    // and may start a new stream.
    std::string finish();

private:
    Tokenizer tokenizer_;
    bool skip_special_;
    std::string pending_;  // the valid start of an unfinished character (at most 3 bytes)
};

}  // namespace moondream
