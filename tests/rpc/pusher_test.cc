// logproto.Pusher over real gRPC on loopback, in front of a real in-process Ingester.
#include "rpc/pusher.h"
#include "rpc/server.h"

#include <gtest/gtest.h>

#include "core/labels.h"
#include "core/time.h"
#include "index/index_store.h"
#include "ingester/ingester.h"
#include "testing/fs/mem_object_store.h"

namespace skald::rpc {
namespace {

class PusherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ing_ = std::make_unique<ingester::Ingester>(ingester::IngesterOptions{}, &store_, &index_,
                                                nullptr);
    GrpcServices services;
    services.pusher = ing_.get();
    auto server = GrpcServer::Start("127.0.0.1:0", services);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
    client_ = std::make_unique<RemotePusher>("127.0.0.1:" + std::to_string(server_->port()),
                                             5 * kNanosPerSecond);
  }

  // The entries the ingester holds for `tenant`, as "labels|ts|line|md" strings.
  std::vector<std::string> Held(std::string_view tenant) {
    std::vector<std::string> out;
    for (const auto& snap : ing_->Snapshot(tenant, {}, INT64_MIN, INT64_MAX)) {
      for (const auto& b : snap.blocks) {
        chunk::DecodedBlock d;
        EXPECT_TRUE(chunk::DecodeBlock(b.bytes, &d, chunk::BlockColumns::kAll).ok());
        for (size_t i = 0; i < d.size(); i++) {
          std::string md;
          for (size_t j = 0; j < d.metadata_count(i); j++) {
            const MetadataPair p = d.metadata(i, j);
            md += std::string(p.name) + "=" + std::string(p.value) + ";";
          }
          out.push_back(snap.labels.ToString() + "|" + std::to_string(d.ts(i)) + "|" +
                        std::string(d.line(i)) + "|" + md);
        }
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  storage::MemObjectStore store_;
  index::IndexStore index_{&store_};
  std::unique_ptr<ingester::Ingester> ing_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<RemotePusher> client_;
};

TEST_F(PusherTest, StreamsEntriesAndMetadataCrossTheWire) {
  const Labels a = *ParseLabels(R"({app="a", env="prod"})");
  const Labels b = *ParseLabels(R"({app="b"})");
  const std::vector<MetadataPair> md = {{"trace_id", "abc"}, {"user", "u\"1"}};
  const int64_t t0 = 1'700'000'000'123'456'789;
  std::vector<ingester::AppendEntry> ea = {{t0, "first line", md}, {t0 + 1, "second", {}}};
  std::vector<ingester::AppendEntry> eb = {{t0 + 5, std::string_view("bin\0ary", 7), {}}};
  std::vector<ingester::StreamAppend> streams(2);
  streams[0].labels = &a;
  streams[0].entries = ea;
  streams[1].labels = &b;
  streams[1].entries = eb;
  ASSERT_TRUE(client_->PushBatch("tenant-1", streams).ok());
  EXPECT_EQ(streams[0].result.appended, 2u);
  EXPECT_EQ(streams[1].result.appended, 1u);
  EXPECT_EQ(Held("tenant-1"),
            (std::vector<std::string>{
                R"({app="a", env="prod"}|1700000000123456789|first line|trace_id=abc;user=u"1;)",
                R"({app="a", env="prod"}|1700000000123456790|second|)",
                std::string(R"({app="b"}|1700000000123456794|bin)") + std::string("\0ary|", 5)}));
  EXPECT_TRUE(Held("fake").empty());  // the tenant travelled as x-scope-orgid
}

TEST_F(PusherTest, RefusalsAndOutagesComeBackAsStatuses) {
  const Labels a = *ParseLabels(R"({app="a"})");
  std::vector<ingester::AppendEntry> now = {{10 * kNanosPerHour, "new", {}}};
  std::vector<ingester::StreamAppend> s(1);
  s[0].labels = &a;
  s[0].entries = now;
  ASSERT_TRUE(client_->PushBatch("t", s).ok());
  // An entry far behind the stream's newest is refused by the ingester: INVALID_ARGUMENT.
  std::vector<ingester::AppendEntry> old = {{1, "old", {}}};
  s[0].entries = old;
  Status st = client_->PushBatch("t", s);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("{app=\"a\"}"), std::string::npos) << st.ToString();

  // The server goes away: Unavailable, within the deadline.
  server_->Stop();
  s[0].entries = now;
  RemotePusher quick("127.0.0.1:" + std::to_string(server_->port()), 500'000'000);
  const int64_t t0 = MonotonicNanos();
  st = quick.PushBatch("t", s);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_LT(MonotonicNanos() - t0, 5 * kNanosPerSecond);
}

}  // namespace
}  // namespace skald::rpc
