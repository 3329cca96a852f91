#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "moondream.h"

namespace moondream {

int physical_core_count() {
    // Linux: count distinct sibling sets; hyper-threads share one. Two threads per physical core
    // is what ggml's matmuls want, so this is the default thread count (llama.cpp does the same).
    std::set<std::string> siblings;
    for (unsigned cpu = 0; cpu < 4096; ++cpu) {
        std::ifstream file("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/thread_siblings");
        if (!file) break;
        std::string line;
        if (std::getline(file, line)) siblings.insert(line);
    }
    if (!siblings.empty()) return static_cast<int>(siblings.size());
    const unsigned logical = std::thread::hardware_concurrency();
    return logical > 0 ? static_cast<int>(logical) : 1;
}

}  // namespace moondream
