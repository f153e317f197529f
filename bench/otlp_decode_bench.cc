// OTLP decode throughput against Loki's push bodies for the same lines: every line of
// testdata/loghub (one stream / resource per file, three index labels, every 10th entry with a
// trace id and one more attribute), decoded as
//   - OTLP protobuf (ExportLogsServiceRequest, uncompressed, mapped onto streams), and gzip'd,
//   - OTLP/JSON,
//   - Loki push protobuf (snappy, what Promtail / Alloy send) and its raw protobuf,
//   - Loki push JSON.
// Prints, per format, the body size and the median over --runs runs (default 15) of lines/s and
// MB/s of body. Run: build/<dir>/bench/otlp_decode_bench [--runs=N] [--filter=otlp]
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "wire/otlp.h"
#include "wire/push.h"

namespace {

using skald::wire::OtlpEncoder;

struct Corpus {
  std::vector<std::pair<std::string, std::vector<std::string>>> files;  // name, lines
  size_t entries = 0;
};

Corpus LoadCorpus() {
  Corpus c;
  const std::filesystem::path dir = SKALD_SOURCE_DIR "/testdata/loghub";
  std::vector<std::filesystem::path> paths;
  for (const auto& de : std::filesystem::directory_iterator(dir)) {
    if (de.path().extension() == ".log") paths.push_back(de.path());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
    }
    c.entries += lines.size();
    c.files.emplace_back(p.stem().string(), std::move(lines));
  }
  return c;
}

constexpr char kTraceHex[] = "4bf92f3577b34da6a3ce929d0e0e4736";

skald::wire::PushRequest BuildPush(const Corpus& c) {
  skald::wire::PushRequestBuilder b;
  int64_t ts = 1'700'000'000'000'000'000;
  size_t n = 0;
  for (const auto& [name, lines] : c.files) {
    b.AddStream("{deployment_environment=\"prod\", k8s_pod_name=\"node-1\", service_name=\"" +
                name + "\"}");
    for (const std::string& line : lines) {
      ts += 1'000'123;
      if (++n % 10 == 0) {
        b.AddEntry(ts, line, {{"user", "u42"}, {"trace_id", kTraceHex}});
      } else {
        b.AddEntry(ts, line);
      }
    }
  }
  return std::move(b).Build();
}

std::string BuildOtlp(const Corpus& c) {
  std::string trace(16, '\0');
  for (int i = 0; i < 16; ++i)
    trace[i] = static_cast<char>(std::stoi(std::string(kTraceHex + 2 * i, 2), nullptr, 16));
  std::vector<OtlpEncoder::Resource> resources;
  uint64_t ts = 1'700'000'000'000'000'000;
  size_t n = 0;
  for (const auto& [name, lines] : c.files) {
    OtlpEncoder::Resource r;
    r.attributes = {{"service.name", OtlpEncoder::Str(name)},
                    {"deployment.environment", OtlpEncoder::Str("prod")},
                    {"k8s.pod.name", OtlpEncoder::Str("node-1")}};
    OtlpEncoder::Scope s;
    for (const std::string& line : lines) {
      ts += 1'000'123;
      OtlpEncoder::Record rec;
      rec.time_unix_nano = ts;
      rec.body = OtlpEncoder::Str(line);
      if (++n % 10 == 0) {
        rec.attributes = {{"user", OtlpEncoder::Str("u42")}};
        rec.trace_id = trace;
      }
      s.records.push_back(std::move(rec));
    }
    r.scopes.push_back(std::move(s));
    resources.push_back(std::move(r));
  }
  return OtlpEncoder::Request(resources);
}

// Hex trace ids as OTLP/JSON wants them; the rest mirrors the protobuf request.
std::string BuildOtlpJson(const Corpus& c) {
  std::string out = R"({"resourceLogs":[)";
  uint64_t ts = 1'700'000'000'000'000'000;
  size_t n = 0;
  auto quote = [&](const std::string& s) {
    out.push_back('"');
    for (char ch : s) {
      const auto u = static_cast<unsigned char>(ch);
      if (ch == '"' || ch == '\\') {
        out.push_back('\\');
        out.push_back(ch);
      } else if (u < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", u);
        out.append(buf);
      } else {
        out.push_back(ch);
      }
    }
    out.push_back('"');
  };
  bool first_res = true;
  for (const auto& [name, lines] : c.files) {
    if (!first_res) out.push_back(',');
    first_res = false;
    out.append(R"({"resource":{"attributes":[{"key":"service.name","value":{"stringValue":)");
    quote(name);
    out.append(
        R"(}},{"key":"deployment.environment","value":{"stringValue":"prod"}},)"
        R"({"key":"k8s.pod.name","value":{"stringValue":"node-1"}}]},"scopeLogs":[{"logRecords":[)");
    bool first = true;
    for (const std::string& line : lines) {
      ts += 1'000'123;
      if (!first) out.push_back(',');
      first = false;
      out.append(R"({"timeUnixNano":")" + std::to_string(ts) + R"(","body":{"stringValue":)");
      quote(line);
      out.push_back('}');
      if (++n % 10 == 0) {
        out.append(R"(,"attributes":[{"key":"user","value":{"stringValue":"u42"}}],"traceId":")");
        out.append(kTraceHex);
        out.push_back('"');
      }
      out.push_back('}');
    }
    out.append("]}]}");
  }
  out.append("]}");
  return out;
}

std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

double MedianSeconds(int runs, const std::function<size_t()>& fn, size_t want_entries) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const size_t got = fn();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (got != want_entries) {
      std::fprintf(stderr, "decoded %zu entries, want %zu\n", got, want_entries);
      std::exit(1);
    }
    t.push_back(s);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 15;
  std::string filter;  // --filter=<substring of a format name>
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--runs=", 7) == 0) runs = std::max(1, std::atoi(argv[i] + 7));
    if (std::strncmp(argv[i], "--filter=", 9) == 0) filter = argv[i] + 9;
  }
  const Corpus c = LoadCorpus();
  if (c.entries == 0) {
    std::fprintf(stderr, "no lines in testdata/loghub\n");
    return 1;
  }
  const auto push = BuildPush(c);
  const std::string push_snappy = skald::wire::EncodePushProtobufSnappy(push);
  const std::string push_raw = skald::wire::EncodePushProtobufRaw(push);
  const std::string push_json = skald::wire::EncodePushJson(push);
  const std::string otlp = BuildOtlp(c);
  const std::string otlp_gz = Gzip(otlp);
  const std::string otlp_json = BuildOtlpJson(c);
  const skald::wire::OtlpOptions opt = skald::wire::DefaultOtlpOptions();

  size_t line_bytes = 0;
  for (const auto& f : c.files) {
    for (const auto& l : f.second) line_bytes += l.size();
  }
  std::printf(
      "otlp_decode_bench: %zu lines (%zu line bytes) from testdata/loghub, %zu streams; "
      "median of %d runs\n",
      c.entries, line_bytes, c.files.size(), runs);
  std::printf("%-26s %12s %14s %10s\n", "format", "body bytes", "lines/s", "MB/s");
  auto report = [&](const char* name, const std::string& body, const std::function<size_t()>& fn) {
    if (!filter.empty() && std::string(name).find(filter) == std::string::npos) return;
    fn();  // warm-up
    const double s = MedianSeconds(runs, fn, c.entries);
    std::printf("%-26s %12zu %14.0f %10.1f\n", name, body.size(), c.entries / s,
                body.size() / s / 1e6);
  };
  auto check = [](auto r) -> size_t {
    if (!r.ok()) {
      std::fprintf(stderr, "decode failed: %s\n", r.status().ToString().c_str());
      std::exit(1);
    }
    return r->TotalEntries();
  };
  report("otlp protobuf", otlp, [&] { return check(skald::wire::DecodeOtlpProtobuf(otlp, opt)); });
  report("otlp gzip(protobuf)", otlp_gz, [&] {
    return check(skald::wire::DecodeOtlpBody("application/x-protobuf", "gzip", otlp_gz, opt));
  });
  report("otlp json", otlp_json,
         [&] { return check(skald::wire::DecodeOtlpJson(otlp_json, opt)); });
  report("loki push protobuf+snappy", push_snappy,
         [&] { return check(skald::wire::DecodePushProtobuf(push_snappy)); });
  report("loki push protobuf (raw)", push_raw,
         [&] { return check(skald::wire::DecodePushProtobufRaw(push_raw)); });
  report("loki push json", push_json, [&] {
    std::string copy;
    copy.reserve(push_json.size() + 64);
    copy.assign(push_json);
    return check(skald::wire::DecodePushJson(std::move(copy)));
  });
  return 0;
}
