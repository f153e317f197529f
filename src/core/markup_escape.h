// Escaping text for XML and HTML: & < > " ' as entities, control bytes other than tab, CR and
// LF as character references (&#N;). The S3 client's request bodies and the /ring page use it.
#pragma once

#include <string>
#include <string_view>

namespace skald {

void AppendXmlEscaped(std::string* out, std::string_view s);

}  // namespace skald
