// Log-line corpus loading, template analysis and line generation (see corpus.h).
#include "tools/bench/corpus.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace skald::bench {
namespace {

uint64_t SplitMix64(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline bool IsHexLetter(char c) { return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline bool IsHex(char c) { return IsDigit(c) || IsHexLetter(c); }

// Length of a dotted-quad IPv4 address starting at i, or 0.
size_t MatchIpv4(std::string_view s, size_t i) {
  // Not the continuation of a number or of a longer dotted sequence.
  if (i > 0 && (IsDigit(s[i - 1]) || (s[i - 1] == '.' && i > 1 && IsDigit(s[i - 2])))) return 0;
  size_t p = i;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (p >= s.size() || s[p] != '.') return 0;
      ++p;
    }
    size_t start = p;
    while (p < s.size() && IsDigit(s[p]) && p - start < 4) ++p;
    size_t n = p - start;
    if (n == 0 || n > 3) return 0;
  }
  if (p < s.size() && (IsDigit(s[p]) || IsAlnum(s[p]))) return 0;
  if (p + 1 < s.size() && s[p] == '.' && IsDigit(s[p + 1])) return 0;
  return p - i;
}

// Appends the decimal form of v (v < 1000).
void AppendSmall(std::string* out, unsigned v) {
  if (v >= 100) out->push_back(static_cast<char>('0' + v / 100));
  if (v >= 10) out->push_back(static_cast<char>('0' + (v / 10) % 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

const char* const kBuiltInLines[] = {
    "2024-03-05 10:15:32,118 INFO  [main] com.example.api.Server: Started HTTP listener on "
    "0.0.0.0:8080 in 1342 ms",
    "2024-03-05 10:15:33,402 INFO  [worker-7] com.example.api.RequestLog: GET /api/v1/users/48213 "
    "status=200 duration=12ms bytes=3381 client=10.42.17.3",
    "2024-03-05 10:15:33,977 WARN  [worker-3] com.example.db.Pool: connection pool usage at 87% "
    "(52/60), waiting=4",
    "2024-03-05 10:15:34,010 ERROR [worker-2] com.example.api.Handler: request 7f3a9c21e4b8 "
    "failed: "
    "upstream timeout after 5000 ms",
    "2024-03-05 10:15:34,221 DEBUG [scheduler-1] com.example.jobs.Cleanup: removed 318 expired "
    "sessions in 41 ms",
    "192.168.10.24 - - [05/Mar/2024:10:15:35 +0000] \"GET /static/app.4f9e2b1c.js HTTP/1.1\" 200 "
    "48213 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"",
    "172.16.4.101 - alice [05/Mar/2024:10:15:35 +0000] \"POST /api/v1/orders HTTP/1.1\" 201 512 "
    "\"https://shop.example.com/cart\" \"curl/8.5.0\"",
    "10.0.3.77 - - [05/Mar/2024:10:15:36 +0000] \"GET /healthz HTTP/1.1\" 200 2 \"-\" "
    "\"kube-probe/1.29\"",
    "Mar  5 10:15:36 node-12 sshd[24173]: Failed password for invalid user admin from "
    "203.0.113.45 port 51234 ssh2",
    "Mar  5 10:15:36 node-12 sshd[24173]: Connection reset by 203.0.113.45 port 51234 [preauth]",
    "Mar  5 10:15:37 node-12 kernel: [183422.554131] eth0: link up, 1000 Mbps, full duplex",
    "Mar  5 10:15:37 node-07 CRON[9912]: (root) CMD (/usr/local/bin/backup.sh --incremental)",
    "Mar  5 10:15:38 node-07 systemd[1]: Started Session 4821 of user deploy.",
    "level=info ts=2024-03-05T10:15:38.512Z caller=compactor.go:214 msg=\"compaction done\" "
    "blocks=12 duration=3.81s",
    "level=warn ts=2024-03-05T10:15:38.733Z caller=client.go:88 msg=\"retrying request\" "
    "attempt=2 backoff=400ms err=\"connection refused\"",
    "level=error ts=2024-03-05T10:15:39.004Z caller=flush.go:151 msg=\"failed to flush chunk\" "
    "tenant=team-a err=\"context deadline exceeded\"",
    "{\"time\":\"2024-03-05T10:15:39.120Z\",\"level\":\"INFO\",\"msg\":\"payment accepted\","
    "\"order_id\":\"ord_82731\",\"amount_cents\":4599,\"trace_id\":\"a3c9e2f1b7d40815\"}",
    "{\"time\":\"2024-03-05T10:15:39.388Z\",\"level\":\"ERROR\",\"msg\":\"payment declined\","
    "\"order_id\":\"ord_82744\",\"reason\":\"insufficient "
    "funds\",\"trace_id\":\"9be1d04a77c3f26e\"}",
    "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block "
    "blk_38865049064139660 terminating",
    "081109 203807 222 INFO dfs.DataNode$DataXceiver: Receiving block blk_-6952295868487656571 "
    "src: "
    "/10.251.39.64:55760 dest: /10.251.39.64:50010",
    "17/06/09 20:10:41 INFO storage.BlockManager: Found block rdd_2_3 locally",
    "17/06/09 20:10:42 WARN executor.Executor: Managed memory leak detected; size = 16777216 "
    "bytes, "
    "TID = 91",
    "2015-07-29 17:41:44,747 - INFO  "
    "[QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774]"
    " - Notification time out: 3200",
    "2015-07-29 19:04:12,394 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@762] - "
    "Connection broken for id 188978561024, my id = 1, error =",
    "E0305 10:15:40.221345    4821 reflector.go:138] failed to list *v1.Pod: Unauthorized",
    "I0305 10:15:40.551902    4821 leaderelection.go:258] successfully acquired lease "
    "kube-system/kube-controller-manager",
    "[Tue Mar 05 10:15:41 2024] [error] [client 198.51.100.7] File does not exist: "
    "/var/www/html/favicon.ico",
    "[Tue Mar 05 10:15:41 2024] [notice] Apache/2.4.58 configured -- resuming normal operations",
    "java.lang.IllegalStateException: Connection pool shut down at "
    "org.apache.http.impl.conn.PoolingHttpClientConnectionManager.requestConnection(Pool.java:191)",
    "2024-03-05T10:15:42.118Z INFO  cache hit ratio=0.93 keys=1048576 evictions=211 "
    "memory=734003200",
    "2024-03-05T10:15:42.340Z INFO  user 6137 logged in from 198.51.100.23 session=5d2e8f01c9a4",
    "2024-03-05T10:15:42.871Z WARN  disk /dev/nvme0n1p2 usage 91% (1.71 TiB of 1.86 TiB)",
};

}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = SplitMix64(&x);
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t MixSeed(uint64_t a, uint64_t b) {
  uint64_t x = a ^ Rotl(b, 32) ^ 0x2545f4914f6cdd1dULL;
  SplitMix64(&x);
  x ^= b;
  return SplitMix64(&x);
}

Template AnalyzeTemplate(std::string line) {
  Template t;
  std::string_view s = line;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    bool boundary = i == 0 || !IsAlnum(s[i - 1]);
    if (IsDigit(c)) {
      size_t ip = MatchIpv4(s, i);
      if (ip > 0) {
        t.slots.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(ip), SlotKind::kIpv4});
        i += ip;
        continue;
      }
    }
    if (boundary && IsHex(c)) {
      size_t j = i;
      bool digit = false, letter = false;
      while (j < s.size() && IsHex(s[j])) {
        digit |= IsDigit(s[j]);
        letter |= IsHexLetter(s[j]);
        ++j;
      }
      if (j - i >= 6 && digit && letter && (j == s.size() || !IsAlnum(s[j]))) {
        t.slots.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(j - i), SlotKind::kHex});
        i = j;
        continue;
      }
    }
    if (IsDigit(c)) {
      size_t j = i;
      while (j < s.size() && IsDigit(s[j])) ++j;
      t.slots.push_back(
          {static_cast<uint32_t>(i), static_cast<uint32_t>(j - i), SlotKind::kDigits});
      i = j;
      continue;
    }
    ++i;
  }
  t.text = std::move(line);
  return t;
}

size_t Corpus::TotalLines() const {
  size_t n = 0;
  for (const auto& s : sources_) n += s.templates.size();
  return n;
}

uint64_t Corpus::TotalBytes() const {
  uint64_t n = 0;
  for (const auto& s : sources_) n += s.bytes;
  return n;
}

StatusOr<Corpus> Corpus::LoadDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("corpus directory not found: " + dir);
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".log") files.push_back(it->path());
  }
  if (ec) return Status::IOError("listing " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  Corpus c;
  c.origin_ = dir;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return Status::IOError("cannot open " + f.string());
    CorpusSource src;
    src.name = f.stem().string();
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      src.bytes += line.size();
      src.templates.push_back(AnalyzeTemplate(std::move(line)));
      line = std::string();
    }
    if (in.bad()) return Status::IOError("reading " + f.string());
    if (!src.templates.empty()) c.sources_.push_back(std::move(src));
  }
  if (c.sources_.empty()) return Status::NotFound("no non-empty *.log file in " + dir);
  return c;
}

Corpus Corpus::BuiltIn() {
  Corpus c;
  c.origin_ = "builtin";
  CorpusSource src;
  src.name = "builtin";
  for (const char* l : kBuiltInLines) {
    src.bytes += std::string_view(l).size();
    src.templates.push_back(AnalyzeTemplate(l));
  }
  c.sources_.push_back(std::move(src));
  return c;
}

std::string FindDefaultCorpusDir(const char* argv0) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> bases;
  bases.push_back(fs::current_path(ec));
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = '\0';
    bases.push_back(fs::path(exe).parent_path());
  }
  if (argv0 != nullptr && *argv0 != '\0') {
    bases.push_back(fs::absolute(fs::path(argv0), ec).parent_path());
  }
  for (fs::path base : bases) {
    for (int up = 0; up <= 4 && !base.empty(); ++up) {
      fs::path cand = base / "testdata" / "loghub";
      if (fs::is_directory(cand, ec)) {
        for (fs::directory_iterator it(cand, ec), end; !ec && it != end; it.increment(ec)) {
          if (it->path().extension() == ".log") return cand.string();
        }
      }
      fs::path parent = base.parent_path();
      if (parent == base) break;
      base = parent;
    }
  }
  return "";
}

LineGenerator::LineGenerator(const CorpusSource* source, uint64_t seed, uint64_t stream)
    : source_(source), rng_(MixSeed(seed, stream)) {
  pos_ = static_cast<size_t>(MixSeed(seed ^ 0x5bd1e995ULL, stream) % source_->templates.size());
}

void LineGenerator::Next(std::string* out) {
  const Template& t = source_->templates[pos_];
  if (++pos_ == source_->templates.size()) pos_ = 0;
  out->clear();
  const char* text = t.text.data();
  size_t at = 0;
  for (const Slot& s : t.slots) {
    out->append(text + at, s.begin - at);
    at = s.begin + s.len;
    switch (s.kind) {
      case SlotKind::kDigits: {
        uint32_t keep = s.len / 2;
        out->append(text + s.begin, keep);
        uint64_t r = rng_.Next();
        int left = 19;  // decimal digits drawn from one 64-bit value
        for (uint32_t k = keep; k < s.len; ++k) {
          if (left-- == 0) {
            r = rng_.Next();
            left = 18;
          }
          out->push_back(static_cast<char>('0' + r % 10));
          r /= 10;
        }
        break;
      }
      case SlotKind::kHex: {
        bool upper = false;
        for (uint32_t k = 0; k < s.len; ++k)
          upper |= text[s.begin + k] >= 'A' && text[s.begin + k] <= 'F';
        const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        uint64_t r = rng_.Next();
        int left = 16;
        for (uint32_t k = 0; k < s.len; ++k) {
          if (left-- == 0) {
            r = rng_.Next();
            left = 15;
          }
          out->push_back(digits[r & 15]);
          r >>= 4;
        }
        break;
      }
      case SlotKind::kIpv4: {
        uint64_t r = rng_.Next();
        AppendSmall(out, 1 + static_cast<unsigned>((r & 0xff) % 223));
        for (int k = 1; k < 4; ++k) {
          out->push_back('.');
          AppendSmall(out, static_cast<unsigned>((r >> (8 * k)) & 0xff));
        }
        break;
      }
    }
  }
  out->append(text + at, t.text.size() - at);
}

}  // namespace skald::bench
