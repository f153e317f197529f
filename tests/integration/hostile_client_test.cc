// A hostile client against a real skald process: decompression bombs sent concurrently, and a
// tenant ID shaped like the object store's temporary-file names.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/time.h"
#include "skald_process.h"
#include "tests/testing/temp_dir.h"
#include "tools/http/http_client.h"

namespace skald::testing {
using ClientResponse = skald::http::HttpResponse;
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A gzip member holding `size` zero bytes, built a chunk at a time (the test never holds the
// inflated bytes). 1 GiB gives about 1 MB.
std::string GzipZeros(size_t size) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY),
            Z_OK);
  const std::string chunk(1 << 20, '\0');
  std::string out;
  char buf[1 << 16];
  size_t left = size;
  for (;;) {
    const size_t n = std::min(left, chunk.size());
    left -= n;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
    zs.avail_in = static_cast<uInt>(n);
    const int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    int ret;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof(buf);
      ret = deflate(&zs, flush);
      out.append(buf, sizeof(buf) - zs.avail_out);
    } while (zs.avail_out == 0);
    if (ret == Z_STREAM_END) break;
  }
  deflateEnd(&zs);
  return out;
}

// "VmHWM:" (peak resident set) of a process, in bytes.
size_t PeakRssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  ADD_FAILURE() << "no VmHWM for pid " << pid;
  return 0;
}

class HostileClientTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags) {
    skald_ = std::make_unique<SkaldProcess>(dir_.path() + "/data", std::move(flags));
    ASSERT_TRUE(skald_->Start()) << skald_->log();
    base_ = (NowNanos() / kNanosPerSecond - 600) * kNanosPerSecond;
  }
  void TearDown() override {
    if (skald_) skald_->Kill();
  }
  StatusOr<ClientResponse> Call(const std::string& method, const std::string& target,
                                const Headers& headers = {}, const std::string& body = "") {
    return http::Fetch("127.0.0.1", skald_->port(), method, target, headers, body);
  }
  std::string Ts(int offset_ms) const {
    return std::to_string(base_ + int64_t{offset_ms} * kNanosPerMilli);
  }

  TempDir dir_;
  std::unique_ptr<SkaldProcess> skald_;
  int64_t base_ = 0;
};

TEST_F(HostileClientTest, TenConcurrentGzipBombsGet413AndBarelyMoveTheServersPeakRss) {
  Start({});
  const std::string bomb = GzipZeros(size_t{1} << 30);  // inflates to 1 GiB
  ASSERT_LT(bomb.size(), 2u << 20);
  // Warm up the push path (threads, parser, allocator arenas) so the baseline is honest.
  auto warm = Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}},
                   R"({"streams":[{"stream":{"a":"b"},"values":[[")" + Ts(1) + R"(","x"]]}]})");
  ASSERT_TRUE(warm.ok());
  ASSERT_EQ(warm->status, 204) << warm->body;
  const size_t before = PeakRssBytes(skald_->pid());

  constexpr int kBombs = 10;
  std::vector<int> status(kBombs, 0);
  std::vector<std::string> bodies(kBombs);
  std::vector<std::thread> threads;
  for (int i = 0; i < kBombs; i++) {
    threads.emplace_back([&, i] {
      // Inflation is gated, so the last bombs wait for the first ones: a generous timeout.
      http::HttpClient c("127.0.0.1", skald_->port());
      c.set_timeout_ms(300'000);
      auto r = c.Call("POST", "/loki/api/v1/push",
                      {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}, bomb);
      if (r.ok()) {
        status[i] = r->status;
        bodies[i] = r->body;
      } else {
        bodies[i] = r.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kBombs; i++) {
    EXPECT_EQ(status[i], 413) << i << ": " << bodies[i];
    EXPECT_EQ(bodies[i].rfind("request body too large: ", 0), 0u) << bodies[i];
  }
  const size_t after = PeakRssBytes(skald_->pid());
  // The bound is the issue's 300 MB. Under AddressSanitizer the server carries shadow memory and
  // a quarantine of freed blocks, so the bound there is 1 GiB (still 15x under the ~15 GB that
  // ten bombs cost before the fix).
#if defined(__SANITIZE_ADDRESS__)
  constexpr size_t kBound = size_t{1} << 30;
#else
  constexpr size_t kBound = size_t{300} << 20;
#endif
  EXPECT_LT(after - before, kBound)
      << "peak RSS " << (before >> 20) << " MiB -> " << (after >> 20) << " MiB";
  std::printf("peak RSS before %zu MiB, after ten 1 GiB bombs %zu MiB\n", before >> 20,
              after >> 20);
  // The server is still serving.
  auto ready = Call("GET", "/ready");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200);
}

TEST_F(HostileClientTest, ConfiguredDecompressedLimitApplies) {
  Start({"-distributor.max-decompressed-size=1MB"});
  // Six lines of 100 KiB (under the 256 KiB line limit): about 600 KiB inflated, accepted.
  std::string json = R"({"streams":[{"stream":{"a":"b"},"values":[)";
  for (int i = 0; i < 6; i++) {
    if (i > 0) json += ",";
    json +=
        R"([")" + Ts(i) + R"(",")" + std::string(100 << 10, static_cast<char>('a' + i)) + R"("])";
  }
  json += "]}]}";
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string gz(deflateBound(&zs, json.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(json.data()));
  zs.avail_in = static_cast<uInt>(json.size());
  zs.next_out = reinterpret_cast<Bytef*>(gz.data());
  zs.avail_out = static_cast<uInt>(gz.size());
  ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  gz.resize(zs.total_out);
  deflateEnd(&zs);
  const Headers h = {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}};
  auto ok = Call("POST", "/loki/api/v1/push", h, gz);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 204) << ok->body;
  // 2 MiB inflated: over the configured 1 MiB.
  auto big = Call("POST", "/loki/api/v1/push", h, GzipZeros(2 << 20));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->status, 413) << big->body;
  EXPECT_NE(big->body.find("1048576"), std::string::npos) << big->body;
}

TEST_F(HostileClientTest, TenantNamedLikeTheStoresTempFilesIsFlushedAndQueryable) {
  Start({"-auth.enabled"});
  const std::string odd = ".skald-tmp-x";
  for (const std::string& tenant : {odd, std::string("plain")}) {
    auto r = Call("POST", "/loki/api/v1/push",
                  {{"Content-Type", "application/json"}, {"X-Scope-OrgID", tenant}},
                  R"({"streams":[{"stream":{"app":"t"},"values":[[")" + Ts(1) + R"(","line of )" +
                      tenant + R"("]]}]})");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 204) << tenant << ": " << r->body;
  }
  auto flush = Call("POST", "/flush");
  ASSERT_TRUE(flush.ok());
  EXPECT_EQ(flush->status, 204) << flush->body;
  // Both tenants' chunks reached the store.
  for (const std::string& tenant : {odd, std::string("plain")}) {
    bool found = false;
    const std::string dir = dir_.path() + "/data/store/packs/" + tenant;
    if (std::filesystem::exists(dir)) {
      for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        found |= e.is_regular_file();
      }
    }
    EXPECT_TRUE(found) << "no chunk under " << dir;
  }
  // Queryable after the flush, and still only by its own tenant.
  const std::string target = "/loki/api/v1/query_range?query=" + http::QueryEscape(R"({app="t"})") +
                             "&start=" + std::to_string(base_) +
                             "&end=" + std::to_string(base_ + kNanosPerSecond) + "&limit=10";
  for (const std::string& tenant : {odd, std::string("plain")}) {
    auto q = Call("GET", target, {{"X-Scope-OrgID", tenant}});
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->status, 200) << q->body;
    EXPECT_NE(q->body.find("line of " + tenant), std::string::npos) << tenant << ": " << q->body;
    const std::string other = tenant == odd ? "plain" : odd;
    EXPECT_EQ(q->body.find("line of " + other + "\""), std::string::npos) << q->body;
  }
  // A second flush (nothing left) and a clean shutdown.
  flush = Call("POST", "/flush");
  ASSERT_TRUE(flush.ok());
  EXPECT_EQ(flush->status, 204) << flush->body;
  EXPECT_EQ(skald_->Stop(), 0) << skald_->log();
}

}  // namespace
}  // namespace skald::testing
