// The little XML S3 speaks: the text of elements in responses (ListObjectsV2 pages, error
// documents, multipart upload ids) and escaping for request bodies (DeleteObjects,
// CompleteMultipartUpload). Not a general XML parser: elements are found by their literal
// tags, which is all S3's flat, attribute-free responses need; malformed input yields empty
// results or an error, never a crash (fuzz/s3_xml_fuzz.cc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace skald::storage::s3xml {

// Replaces &amp; &lt; &gt; &quot; &apos; and &#N; / &#xN; (UTF-8; U+FFFD for code points
// past U+10FFFF) in `in`; other '&' text is kept as is.
void DecodeEntities(std::string_view in, std::string* out);

// The raw text of the first <tag>...</tag> at or after *pos, moving *pos past it; false when
// there is none.
bool NextElement(std::string_view xml, std::string_view tag, size_t* pos, std::string_view* text);

// The decoded text of the first <tag>...</tag>, or "".
std::string ElementText(std::string_view xml, std::string_view tag);

// Escaping for request bodies is core's AppendXmlEscaped (core/markup_escape.h).

// One ListObjectsV2 response page.
struct ListPage {
  std::vector<std::string> keys;  // <Contents><Key>, decoded, in response order
  bool truncated = false;         // <IsTruncated>true</IsTruncated>
  std::string next_token;         // <NextContinuationToken>
};
// Corruption when the body is not a ListBucketResult.
StatusOr<ListPage> ParseListPage(std::string_view body);

}  // namespace skald::storage::s3xml
