// Content equality of decoded push requests (streams, labels, timestamps,
// lines, metadata, all in order), independent of where the strings live.
// For tests, fuzz targets and debugging tools; not used on hot paths.
#pragma once

#include "wire/push.h"

namespace skald::wire {

inline bool PushContentEqual(const PushRequest& a, const PushRequest& b) {
  if (a.streams.size() != b.streams.size()) return false;
  for (size_t i = 0; i < a.streams.size(); ++i) {
    const PushStream& sa = a.streams[i];
    const PushStream& sb = b.streams[i];
    if (sa.labels != sb.labels || sa.entries.size() != sb.entries.size()) return false;
    for (size_t j = 0; j < sa.entries.size(); ++j) {
      const PushEntry& ea = sa.entries[j];
      const PushEntry& eb = sb.entries[j];
      if (ea.timestamp_ns != eb.timestamp_ns || ea.line != eb.line) return false;
      auto ma = a.MetadataOf(ea);
      auto mb = b.MetadataOf(eb);
      if (ma.size() != mb.size()) return false;
      for (size_t k = 0; k < ma.size(); ++k) {
        if (ma[k].name != mb[k].name || ma[k].value != mb[k].value) return false;
      }
    }
  }
  return true;
}

}  // namespace skald::wire
