#include "storage/s3_xml.h"

#include "core/utf8.h"

namespace skald::storage::s3xml {

namespace {

// "#N" or "#xN" (the text between '&' and ';'): its code point, saturated above U+10FFFF;
// false unless every byte after the prefix is a digit and there is at least one.
bool CharacterReference(std::string_view ent, uint32_t* cp) {
  if (ent.size() < 2 || ent[0] != '#') return false;
  const bool hex = ent[1] == 'x' || ent[1] == 'X';
  std::string_view digits = ent.substr(hex ? 2 : 1);
  if (digits.empty()) return false;
  uint32_t v = 0;
  for (char c : digits) {
    int d = (c >= '0' && c <= '9')          ? c - '0'
            : (hex && c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (hex && c >= 'A' && c <= 'F') ? c - 'A' + 10
                                            : -1;
    if (d < 0) return false;
    if (v <= 0x10FFFF) v = v * (hex ? 16 : 10) + static_cast<uint32_t>(d);
  }
  *cp = v;
  return true;
}

}  // namespace

void DecodeEntities(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); i++) {
    if (in[i] != '&') {
      out->push_back(in[i]);
      continue;
    }
    size_t semi = in.find(';', i);
    if (semi == std::string_view::npos) {
      out->append(in.substr(i));
      return;
    }
    std::string_view ent = in.substr(i + 1, semi - i - 1);
    if (ent == "amp")
      out->push_back('&');
    else if (ent == "lt")
      out->push_back('<');
    else if (ent == "gt")
      out->push_back('>');
    else if (ent == "quot")
      out->push_back('"');
    else if (ent == "apos")
      out->push_back('\'');
    else if (uint32_t cp = 0; CharacterReference(ent, &cp)) {
      AppendUtf8(out, cp > 0x10FFFF ? kRuneError : static_cast<char32_t>(cp));
    } else {
      out->append(in.substr(i, semi - i + 1));
    }
    i = semi;
  }
}

bool NextElement(std::string_view xml, std::string_view tag, size_t* pos, std::string_view* text) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  size_t b = xml.find(open, *pos);
  if (b == std::string_view::npos) return false;
  b += open.size();
  size_t e = xml.find(close, b);
  if (e == std::string_view::npos) return false;
  *text = xml.substr(b, e - b);
  *pos = e + close.size();
  return true;
}

std::string ElementText(std::string_view xml, std::string_view tag) {
  size_t pos = 0;
  std::string_view t;
  if (!NextElement(xml, tag, &pos, &t)) return {};
  std::string out;
  DecodeEntities(t, &out);
  return out;
}

StatusOr<ListPage> ParseListPage(std::string_view body) {
  if (body.find("<ListBucketResult") == std::string_view::npos) {
    return Status::Corruption("s3: LIST: the response is not a ListBucketResult");
  }
  ListPage page;
  size_t pos = 0;
  std::string_view contents;
  std::string decoded;
  while (NextElement(body, "Contents", &pos, &contents)) {
    size_t kp = 0;
    std::string_view k;
    if (!NextElement(contents, "Key", &kp, &k)) continue;
    DecodeEntities(k, &decoded);
    page.keys.push_back(decoded);
  }
  page.truncated = ElementText(body, "IsTruncated") == "true";
  page.next_token = ElementText(body, "NextContinuationToken");
  return page;
}

}  // namespace skald::storage::s3xml
