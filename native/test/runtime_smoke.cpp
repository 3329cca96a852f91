// The runtime without Node: load the tiny model, encode one raw RGB image, answer one question,
// and compare with test/fixtures/golden/native-smoke.json (the numpy reference's greedy tokens,
// which test/model/native-smoke.test.ts holds the Node API to as well). Uses moondream.h only.
//
//   runtime_smoke <native-smoke.json> <folder with the f32 GGUF pair of the tiny model>
//
// scripts/test-native.sh makes the model and runs this through ctest.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "moondream.h"

namespace {

using nlohmann::json;

int failures = 0;

void check(bool ok, const std::string & what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) ++failures;
}

std::string ids_text(const std::vector<int32_t> & ids) {
    std::string out = "[";
    for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
    return out + "]";
}

std::string read_file(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A failed call ends the program: nothing after it could be checked.
template <typename T>
T expect(moondream::Result<T> result, const char * what) {
    if (!result.ok()) {
        std::fprintf(stderr, "%s failed: %s %s\n", what, moondream::error_code_name(result.error().code), result.error().message.c_str());
        std::exit(2);
    }
    return std::move(result.value());
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <native-smoke.json> <model folder>\n", argv[0]);
        return 2;
    }
    const std::string fixture_path = argv[1];
    const std::string model_dir = argv[2];
    const json fixture = json::parse(read_file(fixture_path));
    const std::string golden_dir = fixture_path.substr(0, fixture_path.find_last_of('/') + 1);

    moondream::LoadParams load;
    load.text_path = model_dir + "/moondream1-text-model-" + fixture["model"]["textType"].get<std::string>() + ".gguf";
    load.mmproj_path = model_dir + "/moondream1-mmproj-" + fixture["model"]["visionType"].get<std::string>() + ".gguf";
    load.n_threads = 2;
    std::shared_ptr<moondream::Model> model = expect(moondream::load_model(load), "load_model");
    const moondream::ModelInfo info = moondream::describe_model(*model);

    // The configuration that matches the fp32 reference (see LoadOptions.gelu in src/Moondream.ts).
    moondream::SessionParams session_params;
    session_params.kv_f32 = fixture["model"]["kvCacheType"] == "f32";
    session_params.exact_gelu = fixture["model"]["gelu"] == "exact";
    moondream::SessionPtr session = expect(moondream::create_session(model, session_params), "create_session");

    const json & image = fixture["image"];
    const std::string rgb = read_file(golden_dir + image["file"].get<std::string>());
    const moondream::ImageEmbeddings rows = expect(
        moondream::encode_rgb(*session, reinterpret_cast<const uint8_t *>(rgb.data()), rgb.size(), image["width"], image["height"], nullptr),
        "encode_rgb");
    check(rows.n_rows == 729 && rows.n_embd == info.text.n_embd,
          "encode_rgb: " + std::to_string(rows.n_rows) + " rows of " + std::to_string(rows.n_embd) + " in " + std::to_string(int(rows.encode_ms)) + " ms");

    const moondream::PromptTokens prompt = moondream::build_prompt(*model, fixture["question"].get<std::string>());
    const auto prefix = fixture["prompt"]["prefix"].get<std::vector<int32_t>>();
    const auto suffix = fixture["prompt"]["suffix"].get<std::vector<int32_t>>();
    check(prompt.prefix == prefix, "build_prompt prefix " + ids_text(prompt.prefix));
    check(prompt.suffix == suffix, "build_prompt suffix " + ids_text(prompt.suffix));

    moondream::AnswerRequest request;
    request.image_id = 1;
    request.rows = rows.data.data();
    request.n_rows = rows.n_rows;
    request.prefix_tokens = prompt.prefix;
    request.suffix_tokens = prompt.suffix;
    request.params.max_tokens = fixture["maxTokens"];
    request.params.stop_token_ids.assign(info.prompt.stop_token_ids.begin(), info.prompt.stop_token_ids.end());
    request.strip_suffixes = info.prompt.strip_suffixes;
    std::string streamed;
    const moondream::AnswerResult answer = expect(
        moondream::answer_question(*session, request, [&](const std::string & piece) { streamed += piece; }, nullptr), "answer_question");

    const json & expected = fixture["expected"];
    check(answer.tokens == expected["tokens"].get<std::vector<int32_t>>(), "answer tokens " + ids_text(answer.tokens));
    check(answer.stopped_by_token == expected["stoppedByToken"].get<bool>(), std::string("stopped by token: ") + (answer.stopped_by_token ? "yes" : "no"));
    check(answer.text == expected["answer"].get<std::string>(), "answer \"" + answer.text + "\"");
    check(streamed == answer.text, "streamed pieces concatenate to the answer");
    check(answer.prompt_positions == int(prefix.size() + suffix.size()) + rows.n_rows,
          "prompt positions " + std::to_string(answer.prompt_positions) + ", prefill " + std::to_string(int(answer.prefill_ms)) +
              " ms, decode " + std::to_string(int(answer.decode_ms)) + " ms");

    std::printf("%s\n", failures == 0 ? "runtime_smoke: all checks passed" : "runtime_smoke: FAILED");
    return failures == 0 ? 0 : 1;
}
