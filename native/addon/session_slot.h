// The model's default session, created on first use on a worker thread and reused. The mutex
// serialises native work on it even if JS sends calls concurrently.
#pragma once

#include <memory>
#include <mutex>

#include "moondream.h"

namespace moondream::addon {

struct SessionSlot {
    std::mutex mutex;
    SessionParams params;
    SessionPtr session;

    // Call with `mutex` held.
    Status ensure(const std::shared_ptr<Model> & model) {
        if (session) return std::nullopt;
        Result<SessionPtr> created = create_session(model, params);
        if (!created.ok()) return created.error();
        session = std::move(created.value());
        return std::nullopt;
    }
};

}  // namespace moondream::addon
