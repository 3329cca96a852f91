#include "moondream.h"

namespace moondream {

const char * error_code_name(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_argument: return "ERR_INVALID_ARGUMENT";
        case ErrorCode::model_format:     return "ERR_MODEL_FORMAT";
        case ErrorCode::io:               return "ERR_IO";
        case ErrorCode::out_of_memory:    return "ERR_OUT_OF_MEMORY";
        case ErrorCode::aborted:          return "ERR_ABORTED";
        case ErrorCode::disposed:         return "ERR_DISPOSED";
        case ErrorCode::context_overflow: return "ERR_CONTEXT_OVERFLOW";
        case ErrorCode::image_decode:     return "ERR_IMAGE_DECODE";
        case ErrorCode::internal:         return "ERR_INTERNAL";
    }
    return "ERR_INTERNAL";
}

}  // namespace moondream
