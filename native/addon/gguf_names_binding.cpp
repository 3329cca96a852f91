// ggufNames(): the GGUF names table this addon was compiled with, shaped like native/gguf_names.json
// ({ layerPlaceholder, names: { group: { id: name } } }) so a test can compare it with the converter's.
#include "bindings.h"
#include "moondream_tools.h"

namespace moondream::addon {

Napi::Value GgufNamesBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const GgufNames table = gguf_names();
    Napi::Object names = Napi::Object::New(env);
    for (const GgufName & entry : table.names) {
        if (!names.Has(entry.group)) names.Set(entry.group, Napi::Object::New(env));
        names.Get(entry.group).As<Napi::Object>().Set(entry.id, entry.name);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("layerPlaceholder", table.layer_placeholder);
    out.Set("names", names);
    return out;
}

}  // namespace moondream::addon
