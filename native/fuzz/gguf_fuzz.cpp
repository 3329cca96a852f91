// libFuzzer target for the model-file loaders: every input is handed to the GGUF reader and to
// the text and vision model loaders as a file. Run by scripts/fuzz-gguf.sh (clang, ASan, UBSan).
// A crash, sanitizer report, hang or runaway allocation is a finding; an Error value is not.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "moondream_tools.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    const int fd = memfd_create("gguf-fuzz", 0);
    if (fd < 0) return 0;
    size_t written = 0;
    while (written < size) {
        const ssize_t n = write(fd, data + written, size - written);
        if (n <= 0) break;
        written += size_t(n);
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    moondream::Result<moondream::GgufInfo> info = moondream::read_gguf_info(path);
    if (info.ok()) {
        moondream::LoadParams text;
        text.text_path = path;
        (void)moondream::load_model(text);
        moondream::LoadParams pair;
        pair.text_path = path;
        pair.mmproj_path = path;
        (void)moondream::load_model(pair);
    }
    close(fd);
    return 0;
}
