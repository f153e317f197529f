// The one JSON string escaper, in the two dialects Skald emits: Go's encoding/json (HTTP
// responses, which clients compare byte for byte with Loki's) and the plainer form of
// go-logfmt's quoted values (our log lines, like Loki's own).
//
// Both escape \" \\ \n \r \t, other control bytes as \u00XX (lower-case hex), and each
// invalid UTF-8 byte as \ufffd; DEL and valid UTF-8 pass through. kGo also escapes '<' '>'
// '&' as \u003c \u003e \u0026 and U+2028/U+2029 as \u2028/\u2029 (encoding/json's HTML-safe
// default). Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

namespace skald {

// kGoNoHtml: Go's encoding/json with SetEscapeHTML(false), as OTLP's pdata AsString writes map
// and array bodies: '<' '>' '&' verbatim, U+2028/U+2029 escaped, \b and \f in short form.
enum class JsonEscaping { kGo, kGoNoHtml, kLogfmt };

// Appends s to *out as a double-quoted JSON string.
void AppendJsonString(std::string* out, std::string_view s,
                      JsonEscaping escaping = JsonEscaping::kGo);

}  // namespace skald
