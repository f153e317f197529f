// Full disk, for real: skald's data directory lives on a 16 MiB tmpfs mounted in
// a private mount namespace (unshare --mount --map-root-user, so no root is
// needed where user namespaces are allowed; nothing is mounted on the host).
// When the WAL cannot write, pushes get 503 with the WAL error (never a 204 for
// data not on disk), the failure counter counts them and /ready says why; when
// space returns, pushes succeed again without a restart and every
// acknowledged line is queryable exactly once, also after a kill -9.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/time.h"
#include "skald_process.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"
#include "wire/push.h"

namespace skald::testing {
namespace {

// A size-limited tmpfs at `path` in a mount namespace held by a sleeping
// process. Processes started through wrapper() join that namespace; the test
// reaches the tmpfs from outside through /proc/<holder>/root.
class PrivateTmpfs {
 public:
  PrivateTmpfs(const std::string& path, const std::string& size) : path_(path) {
    std::filesystem::create_directories(path);
    const std::string marker = path + ".mounted";
    const std::string log = path + ".holder.log";
    pid_ = fork();
    if (pid_ == 0) {
      FILE* f = std::freopen(log.c_str(), "w", stderr);
      (void)f;
      const std::string script = "mount -t tmpfs -o size=" + size +
                                 " tmpfs \"$0\" && : > \"$0.mounted\" && exec sleep 100000";
      execlp("unshare", "unshare", "--mount", "--map-root-user", "--propagation", "private", "sh",
             "-c", script.c_str(), path.c_str(), static_cast<char*>(nullptr));
      std::perror("exec unshare");
      _exit(127);
    }
    bool exited = false;
    WaitFor([&] {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited = true;
        pid_ = -1;
        return true;
      }
      return std::filesystem::exists(marker);
    });
    if (exited || !std::filesystem::exists(marker)) {
      std::ifstream in(log);
      std::stringstream ss;
      ss << in.rdbuf();
      error_ = "unshare --mount --map-root-user + mount tmpfs failed: " + ss.str();
    }
  }
  ~PrivateTmpfs() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // Runs a command (appended) inside the namespace.
  std::vector<std::string> wrapper() const {
    return {"nsenter", "-t", std::to_string(pid_), "-U", "-m", "--"};
  }
  // The path, as seen from outside the namespace, of `inner` (a path inside it).
  std::string Outside(const std::string& inner) const {
    return "/proc/" + std::to_string(pid_) + "/root" + inner;
  }

 private:
  std::string path_;
  pid_t pid_ = -1;
  std::string error_;
};

TEST(DiskFullTest, FullWalDiskRefusesPushesWith503AndRecoversWhenSpaceReturns) {
  TempDir dir;
  const std::string mnt = dir.Sub("mnt");
  PrivateTmpfs fs(mnt, "16m");
  if (!fs.ok()) GTEST_SKIP() << "no private tmpfs here, so no full disk to test: " << fs.error();
  const std::string data = mnt + "/data";
  SkaldProcess skald(data, {"-ingester.flush-check-period=1h"}, fs.wrapper());
  ASSERT_TRUE(skald.Start()) << skald.log();
  const int64_t base = (NowNanos() / kNanosPerSecond - 600) * kNanosPerSecond;

  // Leave about 2 MiB free.
  const std::string filler = fs.Outside(mnt + "/filler");
  {
    std::ofstream f(filler, std::ios::binary);
    ASSERT_TRUE(f.good()) << "cannot write " << filler;
    std::string mb(1 << 20, 'x');
    for (int i = 0; i < 13; i++) f.write(mb.data(), static_cast<std::streamsize>(mb.size()));
  }

  std::set<std::string> acked;
  int64_t seq = 0;
  std::string last_body;
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
    auto r = skald.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/x-protobuf"}},
                        wire::EncodePushProtobufSnappy(std::move(b).Build()));
    int status = r.ok() ? r->status : -1;
    last_body = r.ok() ? r->body : r.status().ToString();
    if (status == 204) acked.insert(lines.begin(), lines.end());
    return status;
  };
  auto wal_failures = [&] {
    auto m = skald.Call("GET", "/metrics");
    EXPECT_TRUE(m.ok());
    return m.ok() ? SampleValue(m->body, "skald_ingester_wal_write_failures_total").value_or(-1)
                  : -1;
  };

  EXPECT_EQ(wal_failures(), 0);
  int status = 204;
  int pushes = 0;
  while (status == 204 && pushes < 400) {
    status = push();
    pushes++;
  }
  ASSERT_EQ(status, 503) << "after " << pushes << " pushes: " << last_body;
  EXPECT_NE(last_body.find("failed to write to the WAL, push not accepted"), std::string::npos)
      << last_body;
  EXPECT_EQ(wal_failures(), 1);
  auto ready = skald.Call("GET", "/ready");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 503);
  EXPECT_NE(ready->body.find("WAL write failing"), std::string::npos) << ready->body;
  EXPECT_EQ(push(), 503) << last_body;  // still full
  EXPECT_EQ(wal_failures(), 2);

  std::filesystem::remove(filler);  // space returns
  // /ready re-probes the WAL by itself: ready again before any push succeeds, so a load
  // balancer that routes only to ready instances brings traffic back.
  std::string ready_body;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto r = skald.Call("GET", "/ready");
        if (!r.ok()) return false;
        ready_body = r->body;
        return r->status == 200;
      },
      10000))
      << ready_body;
  EXPECT_EQ(wal_failures(), 2);
  EXPECT_EQ(push(), 204) << last_body;
  EXPECT_EQ(push(), 204) << last_body;
  EXPECT_EQ(wal_failures(), 2);
  ready = skald.Call("GET", "/ready");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200) << ready->body;

  // Every acknowledged line is there exactly once, also after a restart.
  for (int round = 0; round < 2; round++) {
    auto q = skald.Call("GET",
                        "/loki/api/v1/query_range?query=%7Bapp%3D%22diskfull%22%7D&limit=5000"
                        "&direction=forward&start=" +
                            std::to_string(base) + "&end=" + std::to_string(base + seq * 1000 + 1));
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
