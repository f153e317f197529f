// Fuzzes the pattern detector (pattern/drain.h, pattern/store.h) over arbitrary lines. The
// first byte picks the line format (plain, logfmt, JSON, or detected from the first line) and
// a small cluster limit (so the LRU and the limiter run); the rest is split at '\n' into
// lines, trained in order with mostly increasing timestamps. Checks: no crash or hang; every
// line that joins a cluster has the cluster's token count and equals the cluster's tokens
// wherever those are not the placeholder; at most max_clusters clusters; the samples of a
// cluster sum to at most its lines; the store answers a query and the JSON encodes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "pattern/drain.h"
#include "pattern/store.h"
#include "pattern/tokenizer.h"

namespace {

using namespace skald::pattern;

void Check(bool ok) {
  if (!ok) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t sel = data[0];
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string_view> lines;
  while (!in.empty() && lines.size() < 2000) {
    size_t nl = in.find('\n');
    lines.push_back(in.substr(0, nl));
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  if (lines.empty()) return 0;
  LineFormat format = LineFormat::kUnknown;
  switch (sel & 3) {
    case 1:
      format = LineFormat::kLogfmt;
      break;
    case 2:
      format = LineFormat::kJson;
      break;
    case 3:
      format = DetectLogFormat(lines[0]);
      break;
  }
  DrainConfig cfg;
  cfg.max_clusters = (sel & 4) ? 4 : 300;
  cfg.max_allowed_line_length = 512;
  int64_t now = 0;
  DrainStats stats;
  Drain drain(cfg, format, &stats, [&] { return now; });
  std::vector<std::string_view> tokens;
  std::vector<int> spaces;
  int64_t ts = 1700000000LL * 1000000000;
  for (size_t i = 0; i < lines.size(); i++) {
    ts += (i % 7 == 3) ? -3000000000LL : 2500000000LL;
    now += 1000000000LL;
    const LogCluster* c = drain.Train(lines[i], ts);
    (void)DetectLogFormat(lines[i]);
    if (c == nullptr) continue;
    SkipReason why;
    Check(drain.tokenizer().Tokenize(lines[i], &tokens, &spaces, &why));
    Check(tokens.size() == c->tokens().size());
    for (size_t k = 0; k < tokens.size(); k++) {
      Check(c->tokens()[k] == kPlaceholder || c->tokens()[k] == tokens[k]);
    }
    Check(drain.cluster_count() <= static_cast<size_t>(cfg.max_clusters));
  }
  for (const LogCluster* c : drain.Clusters()) {
    std::vector<Sample> samples;
    c->AppendRange(0, INT64_MAX / 2, 60000, cfg.sample_interval_ms, &samples);
    int64_t total = 0;
    for (const Sample& s : samples) total += s.count;
    Check(total <= c->size());
    (void)drain.PatternOf(*c);
  }
  drain.Prune(1700000000LL * 1000 + 3600 * 1000);

  PatternStoreOptions o;
  o.min_cluster_size = 1;
  o.now_ns = [] { return 1700000000LL * 1000000000; };
  PatternStore store(o);
  std::vector<skald::EntryView> entries;
  ts = 1700000000LL * 1000000000;
  for (std::string_view l : lines) entries.push_back({ts += 1000000000, l, {}});
  store.Push("t", skald::Labels({{"a", "b"}}), 0, entries);
  auto got = store.Query("t", {}, 0, INT64_MAX / 2, 10LL * 1000000000);
  for (const auto& s : got) Check(!s.pattern.empty() && !s.samples.empty());
  (void)EncodePatternsResponse(got);
  store.Prune();
  return 0;
}
