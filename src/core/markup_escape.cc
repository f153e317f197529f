#include "core/markup_escape.h"

namespace skald {

void AppendXmlEscaped(std::string* out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '"':
        *out += "&quot;";
        break;
      case '\'':
        *out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          *out += "&#" + std::to_string(static_cast<unsigned char>(c)) + ";";
        } else {
          out->push_back(c);
        }
    }
  }
}

}  // namespace skald
