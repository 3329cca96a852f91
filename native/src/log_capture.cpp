#include "log_capture.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "ggml.h"

namespace moondream {

namespace {

// The capture target of the current thread. ggml's logger is process-global, so this thread_local
// is how concurrent workers each get their own messages.
thread_local std::string * t_capture = nullptr;

void forward_log(ggml_log_level level, const char * text, void *) {
    if (t_capture != nullptr) {
        if (level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_CONT) {
            t_capture->append(text);
        }
        return;
    }
    // Outside a capture, stay quiet unless asked: a library must not write to the host's stderr.
    static const bool verbose = std::getenv("MOONDREAM_GGML_LOG") != nullptr;
    if (verbose) {
        std::fputs(text, stderr);
    }
}

}  // namespace

void install_ggml_log_hook() {
    static std::once_flag once;
    std::call_once(once, [] { ggml_log_set(forward_log, nullptr); });
}

LogCapture::LogCapture() : previous_(t_capture) {
    install_ggml_log_hook();
    t_capture = &buffer_;
}

LogCapture::~LogCapture() { t_capture = previous_; }

std::string LogCapture::text() const {
    std::string out;
    size_t start = 0;
    while (start < buffer_.size()) {
        size_t end = buffer_.find('\n', start);
        if (end == std::string::npos) end = buffer_.size();
        std::string line = buffer_.substr(start, end - start);
        // ggml prefixes lines with its function name ("gguf_init_from_file_impl: ..."); drop it.
        const size_t colon = line.find(": ");
        if (colon != std::string::npos && line.find(' ') > colon) line = line.substr(colon + 2);
        if (!line.empty()) {
            if (!out.empty()) out += "; ";
            out += line;
        }
        start = end + 1;
    }
    return out;
}

}  // namespace moondream
