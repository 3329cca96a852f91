// moondream-ggml native API: plain C++17, no Node types. The N-API layer (native/addon) only
// translates these values to JavaScript. Errors are returned as values, never thrown across this
// boundary, so a bad file or argument can always become a typed JS error instead of an abort.
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

// ---- ggml build and machine facts --------------------------------------------------------------

struct CpuFeature {
    std::string name;  // "AVX2", "FMA", "F16C", "AVX512", ...
    bool present;
};

struct GgmlTypeTraits {
    int id;
    std::string name;      // ggml's own name: "f32", "q4_0", ...
    int64_t block_size;    // elements per block
    uint64_t type_size;    // bytes per block
    bool quantized;
};

struct GgmlInfo {
    std::string ggml_commit;   // llama.cpp commit the vendored ggml came from
    std::string ggml_version;  // ggml's own version string
    std::vector<CpuFeature> cpu_features;
    int physical_cores;        // default thread count
    int logical_cpus;
};

GgmlInfo ggml_info();

// Every ggml type that has a real layout (removed type ids are skipped).
std::vector<GgmlTypeTraits> list_ggml_types();

// Physical cores of this machine (hyper-threads not counted); at least 1.
int physical_core_count();

// ---- GGUF metadata -----------------------------------------------------------------------------

// Numbering follows GGUF's own type ids.
enum class GgufType : int {
    uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6,
    boolean = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12,
};

const char * gguf_type_label(GgufType type);  // "uint8", ..., "bool", "string", "array"

// One scalar: unsigned ints as uint64_t, signed as int64_t, floats as double.
using GgufScalar = std::variant<uint64_t, int64_t, double, bool, std::string>;

struct GgufValue {
    GgufType type;                  // GgufType::array for arrays
    GgufType item_type;             // element type for arrays, == type otherwise
    std::vector<GgufScalar> items;  // one element for scalars
};

struct GgufTensorInfo {
    std::string name;
    int type;                    // ggml_type id
    std::string type_name;       // ggml's name for it
    std::vector<int64_t> shape;  // ggml ne order (fastest first), trailing 1s dropped, >= 1 dim
    uint64_t offset;             // from the start of the data section
    uint64_t size;               // bytes
};

struct GgufInfo {
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;  // absolute file offset of the data section
    uint64_t file_size;
    std::vector<std::pair<std::string, GgufValue>> metadata;  // in file order
    std::vector<GgufTensorInfo> tensors;                       // in file order
};

// Reads and validates a GGUF file's header, metadata and tensor table (not the tensor data).
// Fails with ErrorCode::io when the file cannot be read, ErrorCode::model_format when it is not a
// well-formed GGUF file (the message says what is wrong).
Result<GgufInfo> read_gguf_info(const std::string & path);

// One GGUF key, tensor name or compared value from native/gguf_names.json, the table the loader
// was compiled with and the TypeScript converter writes from.
struct GgufName {
    std::string group;  // "textKeys", "visionTensors", "values", ...
    std::string id;     // "embeddingLength", "attnQkv", ...
    std::string name;   // "phi2.embedding_length", "blk.{layer}.attn_qkv", "phi2", ...
};

struct GgufNames {
    std::string layer_placeholder;  // "{layer}": where a tensor name takes its block index
    std::vector<GgufName> names;
};

// The compiled-in table, so tests can check it is the one the converter uses.
GgufNames gguf_names();

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
enum class ResizeMode { stretch, letterbox };

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
};

struct ModelInfo {
    TextHparams text;
    PromptProfile prompt;
    bool has_vision = false;
    VisionHparams vision;
    VisionProfile vision_profile;
    size_t mapped_bytes = 0;
    size_t repacked_bytes = 0;  // weights copied into repacked layouts at load (ggml's and our VNNI kernel's)
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
    int n_threads = 0;     // 0: physical cores
    int n_batch = 256;
    bool exact_gelu = false;  // true: f32 tanh GELU as the reference; false: ggml's f16 table, as llama.cpp
    size_t prefix_cache_bytes = size_t(1) << 30;  // image prompt prefixes kept for reuse
    bool flash_attention = true;  // text attention through ggml's flash attention kernel
};

// A conversation's state on a model: KV cache, compute buffers, thread pool. Not thread-safe:
// calls on one session must be serialised.
class Session;

void destroy_session(Session * session);
struct SessionDeleter {
    void operator()(Session * session) const { destroy_session(session); }
};
using SessionPtr = std::unique_ptr<Session, SessionDeleter>;

Result<SessionPtr> create_session(std::shared_ptr<Model> model, const SessionParams & params);

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
Result<ImageEmbeddings> encode_image(Session & session, const float * pixels, size_t n_values, const std::atomic<bool> * abort);

// ---- quantization (for the converter) ---------------------------------------------------------

// Converts `n_rows` rows of `n_per_row` f32 values into ggml type `type` (f32, f16, bf16 or a
// quantized type that needs no importance matrix) with ggml's own kernels, so the bits equal
// llama-quantize's. Rows are split across `n_threads`.
Result<std::vector<uint8_t>> quantize_rows(int type, const float * data, int64_t n_rows, int64_t n_per_row, int n_threads);

// ---- self-check of the VNNI matmul kernel (tests) --------------------------------------------------

struct VnniCheck {
    bool supported = false;              // this CPU runs the kernel (else nothing was compared)
    double max_relative_difference = 0;  // max |ours - ggml| / max |ggml| over the [n, m] result
};

// Multiplies a seeded random q8_0 or q4_0 weight [k, n] by random activations [k, m] with our
// VNNI kernel and with ggml's mul_mat, and compares.
Result<VnniCheck> check_vnni_matrix(int type, int64_t k, int64_t n, int64_t m, uint64_t seed, int n_threads);

// ---- machine probe (the benchmark's bounds) -------------------------------------------------------

struct MachineProbe {
    int threads = 0;
    double read_bytes_per_second = 0;  // streaming reads of a buffer far larger than the caches
    double fp32_flops_per_second = 0;  // fused multiply-adds, 2 FLOPs each, widest vectors available
    double int8_ops_per_second = 0;    // u8 x s8 multiply-adds into i32, 2 ops each (0: no SIMD path)
    std::string fp32_isa;
    std::string int8_isa;
};

// Measures the limits `n_threads` threads reach, reading `read_bytes` (at least 64 MiB). Takes
// about a second; run it on an otherwise idle machine.
Result<MachineProbe> probe_machine(int n_threads, size_t read_bytes);

// ---- image preprocessing (spec: moondream1 §3) ---------------------------------------------------

// moondream1's vision input is a 378x378 RGB image, stretched (no crop, no padding).
constexpr int vision_image_size = 378;

// Bounds on the sizes the resampler accepts. A side above max_resample_side is rejected before
// anything is allocated; the output is capped because its accumulators are 12 bytes per pixel.
constexpr int64_t max_resample_side = int64_t(1) << 24;
constexpr int64_t max_resample_output_pixels = int64_t(1) << 24;

// Pillow's Image.resize(size, BICUBIC) of 8-bit RGB, bit for bit: antialiased separable bicubic
// (a = -0.5), 22-bit fixed-point weights, horizontal pass first with a uint8 result between the
// passes, a pass skipped where that side keeps its size. `rgb` holds width*height pixels, 3 bytes
// each, row by row. Returns out_width*out_height*3 bytes in the same layout. Memory stays
// proportional to the input and output sizes, whatever their aspect ratios.
Result<std::vector<uint8_t>> resize_rgb_bicubic(const uint8_t * rgb, size_t size, int64_t width, int64_t height,
                                                int64_t out_width, int64_t out_height);

// The vision encoder's input: resize_rgb_bicubic to 378x378, then torch's ToDtype(scale=True) and
// Normalize(0.5, 0.5) bit for bit. Returns 3*378*378 floats in [-1, 1], channel planes R, G, B.
Result<std::vector<float>> preprocess_rgb(const uint8_t * rgb, size_t size, int64_t width, int64_t height);

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

// What answering streams for these generated ids (answer_question's pieces, without a model): the
// pieces in order and the final post-processed answer they concatenate to.
struct AnswerPieces {
    std::vector<std::string> pieces;
    std::string answer;
};
AnswerPieces stream_answer_pieces(const Tokenizer & tokenizer, const std::vector<int32_t> & ids,
                                  const std::vector<std::string> & strip_suffixes);

}  // namespace moondream
