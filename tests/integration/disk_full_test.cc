// Full disk, for real: skald's data directory lives on a size-limited tmpfs that
// the test mounts (as root). When the WAL cannot write, pushes get 5xx (never a
// 204 for data not on disk) and /ready says why; when space returns, pushes
// succeed again without a restart and every acknowledged line is queryable.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "wire/push.h"
#include "core/time.h"
#include "skald_process.h"
#include "tests/server/http_client.h"

namespace skald::testing {
namespace {

using skald::test::HttpCall;

class TmpfsMount {
 public:
  TmpfsMount(const std::string& path, const std::string& size) : path_(path) {
    std::filesystem::create_directories(path);
    std::string opts = "size=" + size;
    mounted_ = mount("tmpfs", path.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

TEST(DiskFullTest, FullWalDiskRefusesPushesAndRecoversWhenSpaceReturns) {
  TempDir dir;
  TmpfsMount fs(dir.path() + "/mnt", "16m");
  if (!fs.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): " << strerror(errno);
  }
  const std::string data = dir.path() + "/mnt/data";
  SkaldProcess skald(data, {"-ingester.flush-check-period=1h"});
  ASSERT_TRUE(skald.Start()) << skald.log();
  const int64_t base = (NowNanos() / kNanosPerSecond - 600) * kNanosPerSecond;

  // Leave about 2 MiB free.
  const std::string filler = dir.path() + "/mnt/filler";
  {
    std::ofstream f(filler, std::ios::binary);
    std::string mb(1 << 20, 'x');
    for (int i = 0; i < 13; i++) f.write(mb.data(), static_cast<std::streamsize>(mb.size()));
  }

  std::set<std::string> acked;
  int64_t seq = 0;
  auto push = [&]() {
    wire::PushRequestBuilder b;
    b.AddStream(R"({app="diskfull"})");
    std::vector<std::string> lines;
    for (int i = 0; i < 20; i++) {
      std::string line = "diskfull seq=" + std::to_string(seq) + " " + std::string(10000, 'p');
      b.AddEntry(base + seq * 1000, line);
      lines.push_back("diskfull seq=" + std::to_string(seq));
      seq++;
    }
    auto r = HttpCall("127.0.0.1", skald.port(), "POST", "/loki/api/v1/push",
                      {{"Content-Type", "application/x-protobuf"}},
                      wire::EncodePushProtobufSnappy(std::move(b).Build()));
    int status = r.ok() ? r->status : -1;
    if (status == 204) acked.insert(lines.begin(), lines.end());
    return status;
  };

  int status = 204;
  int pushes = 0;
  while (status == 204 && pushes < 400) {
    status = push();
    pushes++;
  }
  ASSERT_GE(status, 500) << "the disk never filled up after " << pushes << " pushes";
  EXPECT_LT(status, 600);
  auto ready = HttpCall("127.0.0.1", skald.port(), "GET", "/ready", {}, "");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 503);
  EXPECT_NE(ready->body.find("WAL"), std::string::npos) << ready->body;
  EXPECT_GE(push(), 500);  // still full

  std::filesystem::remove(filler);  // space returns
  EXPECT_EQ(push(), 204);
  EXPECT_EQ(push(), 204);
  ready = HttpCall("127.0.0.1", skald.port(), "GET", "/ready", {}, "");
  EXPECT_EQ(ready->status, 200) << ready->body;

  // Every acknowledged line is there exactly once, also after a restart.
  for (int round = 0; round < 2; round++) {
    auto q = HttpCall("127.0.0.1", skald.port(), "GET",
                      "/loki/api/v1/query_range?query=%7Bapp%3D%22diskfull%22%7D&limit=5000"
                      "&direction=forward&start=" +
                          std::to_string(base) + "&end=" + std::to_string(base + seq * 1000 + 1),
                      {}, "");
    ASSERT_TRUE(q.ok());
    ASSERT_EQ(q->status, 200);
    for (const auto& l : acked) {
      size_t first = q->body.find("\"" + l + " ");
      ASSERT_NE(first, std::string::npos) << "lost acknowledged line " << l;
      ASSERT_EQ(q->body.find("\"" + l + " ", first + 1), std::string::npos) << "duplicate " << l;
    }
    if (round == 0) {
      skald.Kill();
      ASSERT_TRUE(skald.Start()) << skald.log();
    }
  }
  EXPECT_EQ(skald.Stop(), 0) << skald.log();
  EXPECT_NE(skald.log().find("WAL write failed"), std::string::npos);
}

}  // namespace
}  // namespace skald::testing
