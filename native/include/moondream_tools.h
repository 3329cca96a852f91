// moondream-ggml tools: what the converter, `moondream-ggml info` / `system` and the benchmark use
// besides the runtime: ggml build facts, GGUF inspection, quantization and the machine probe.
// A program that only loads a model and answers questions needs moondream.h alone.
#pragma once

#include "moondream.h"

namespace moondream {

// ---- ggml build facts ----------------------------------------------------------------------------

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

// ---- quantization (for the converter) ---------------------------------------------------------

// Converts `n_rows` rows of `n_per_row` f32 values into ggml type `type` (f32, f16, bf16 or a
// quantized type that needs no importance matrix) with ggml's own kernels, so the bits equal
// llama-quantize's. Rows are split across `n_threads`.
Result<std::vector<uint8_t>> quantize_rows(int type, const float * data, int64_t n_rows, int64_t n_per_row, int n_threads);

// ---- machine probe (the benchmark's bounds) -------------------------------------------------------

struct MachineProbe {
    int threads = 0;
    double read_bytes_per_second = 0;  // streaming reads of a buffer far larger than the caches
    double fp32_flops_per_second = 0;  // fused multiply-adds, 2 FLOPs each, widest vectors available
    double int8_ops_per_second = 0;    // u8 x s8 multiply-adds into i32, 2 ops each (0: no SIMD path)
    double int8_block_ops_per_second = 0;  // the same with q8_0's per-block float scaling, as our prefill kernels run (0: no AVX-512 VNNI tile kernel)
    double bf16_flops_per_second = 0;  // bf16 pair dot products into f32 (VDPBF16PS), 2 FLOPs per product (0: no AVX512_BF16)
    std::string fp32_isa;
    std::string int8_isa;
};

// Measures the limits `n_threads` threads reach, reading `read_bytes` (at least 64 MiB). Takes
// about a second; run it on an otherwise idle machine.
Result<MachineProbe> probe_machine(int n_threads, size_t read_bytes);

}  // namespace moondream
