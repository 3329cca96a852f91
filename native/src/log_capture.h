// ggml reports why it refused a file only through its process-wide log callback. LogCapture
// collects the error lines ggml logs on the current thread while it is alive, so they can become
// the message of a returned Error instead of noise on stderr.
#pragma once

#include <string>

namespace moondream {

class LogCapture {
public:
    LogCapture();
    ~LogCapture();
    LogCapture(const LogCapture &) = delete;
    LogCapture & operator=(const LogCapture &) = delete;

    // Error and warning text logged so far, trimmed, lines joined with "; ".
    std::string text() const;

private:
    std::string buffer_;
    std::string * previous_;
};

// Installs the forwarding callback once per process (idempotent).
void install_ggml_log_hook();

}  // namespace moondream
