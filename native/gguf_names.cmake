# native/gguf_names.json -> gguf_names.h: the GGUF names as C++ constants, written into the build
# tree when CMake configures. Generating here rather than committing the header means every build
# path (cmake-js from a checkout or the npm package, the sanitizer and fuzz builds, a prebuilt
# binary's CI) compiles exactly the names the TypeScript converter reads from the same JSON, and
# needs nothing but CMake. CMake re-runs on its own when the JSON changes.
#
# Group "textKeys", id "embeddingLength" -> moondream::gguf::text_keys::embedding_length; the
# table moondream::gguf::all keeps the JSON's own spelling for gguf_names() (the addon's ggufNames).

# "headCountKv" -> "head_count_kv"
function(_moondream_snake_case out name)
  string(REGEX REPLACE "([A-Z])" "_\\1" snake "${name}")
  string(TOLOWER "${snake}" snake)
  set(${out} "${snake}" PARENT_SCOPE)
endfunction()

function(moondream_generate_gguf_names json_path header_path)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${json_path})
  file(READ ${json_path} json)
  # Names go into C string literals unescaped, and ids become identifiers: refuse anything else.
  set(name_chars "^[A-Za-z0-9_.{}-]+$")
  set(id_chars "^[a-z][A-Za-z0-9]*$")

  string(JSON placeholder GET "${json}" layerPlaceholder)
  if(NOT placeholder MATCHES "${name_chars}")
    message(FATAL_ERROR "${json_path}: layerPlaceholder \"${placeholder}\" has characters a C string would need escaped")
  endif()
  set(constants "inline constexpr const char * layer_placeholder = \"${placeholder}\";\n")
  set(entries "")

  string(JSON group_count LENGTH "${json}" names)
  math(EXPR last_group "${group_count} - 1")
  foreach(g RANGE ${last_group})
    string(JSON group MEMBER "${json}" names ${g})
    if(NOT group MATCHES "${id_chars}")
      message(FATAL_ERROR "${json_path}: group \"${group}\" is not a camelCase identifier")
    endif()
    _moondream_snake_case(group_cpp "${group}")
    string(APPEND constants "\nnamespace ${group_cpp} {\n")
    string(JSON id_count LENGTH "${json}" names ${group})
    math(EXPR last_id "${id_count} - 1")
    foreach(i RANGE ${last_id})
      string(JSON id MEMBER "${json}" names ${group} ${i})
      string(JSON name GET "${json}" names ${group} ${id})
      if(NOT id MATCHES "${id_chars}")
        message(FATAL_ERROR "${json_path}: id \"${group}.${id}\" is not a camelCase identifier")
      endif()
      if(NOT name MATCHES "${name_chars}")
        message(FATAL_ERROR "${json_path}: ${group}.${id} = \"${name}\" has characters a C string would need escaped")
      endif()
      _moondream_snake_case(id_cpp "${id}")
      string(APPEND constants "inline constexpr const char * ${id_cpp} = \"${name}\";\n")
      string(APPEND entries "    {\"${group}\", \"${id}\", \"${name}\"},\n")
    endforeach()
    string(APPEND constants "}  // namespace ${group_cpp}\n")
  endforeach()

  set(header "// Generated from native/gguf_names.json by native/gguf_names.cmake: edit the JSON, not this file.
#pragma once

namespace moondream::gguf {

${constants}
struct NameEntry {
    const char * group;
    const char * id;
    const char * name;
};

// Every name above, with the JSON's spelling of its group and id.
inline constexpr NameEntry all[] = {
${entries}};

}  // namespace moondream::gguf
")
  # Rewritten only when the content changes, so an unrelated reconfigure recompiles nothing.
  file(CONFIGURE OUTPUT ${header_path} CONTENT "${header}" @ONLY)
endfunction()
