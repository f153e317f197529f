// RuleStore: the `<root>/<tenant>/<namespace>` rule-file tree.
#include "ruler/rule_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/temp_dir.h"

namespace skald::ruler {
namespace {

namespace fs = std::filesystem;

RuleGroup Group(const std::string& name, const std::string& record = "r") {
  RuleGroup g;
  g.name = name;
  Rule r;
  r.record = record;
  r.expr = "sum(count_over_time({app=\"api\"}[1m]))";
  g.rules.push_back(r);
  return g;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

std::vector<std::string> DirNames(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(RuleStore, EmptyStore) {
  testing::TempDir tmp("rules");
  RuleStore store(tmp.Sub("does/not/exist"));
  auto tenants = store.Tenants();
  ASSERT_TRUE(tenants.ok()) << tenants.status().ToString();
  EXPECT_TRUE(tenants->empty());
  auto list = store.List("t");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_TRUE(list->empty());
  EXPECT_EQ(store.GetNamespace("t", "ns").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.GetGroup("t", "ns", "g").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.DeleteGroup("t", "ns", "g").code(), StatusCode::kNotFound);
  EXPECT_EQ(store.DeleteNamespace("t", "ns").code(), StatusCode::kNotFound);
}

TEST(RuleStore, SetThenGet) {
  testing::TempDir tmp("rules");
  RuleStore store(tmp.Sub("root"));
  RuleGroup g = Group("g1");
  g.interval_ms = 30000;
  ASSERT_TRUE(store.SetGroup("tenant-a", "ns1", g).ok());

  auto got = store.GetGroup("tenant-a", "ns1", "g1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, g);
  EXPECT_EQ(store.GetGroup("tenant-a", "ns1", "other").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.GetGroup("tenant-a", "ns2", "g1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.GetGroup("tenant-b", "ns1", "g1").status().code(), StatusCode::kNotFound);

  // The file is a plain rule file at <root>/<tenant>/<namespace>.
  const std::string path = tmp.Sub("root/tenant-a/ns1");
  ASSERT_TRUE(fs::is_regular_file(path));
  auto parsed = ParseRuleFileYaml(ReadFile(path));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, std::vector<RuleGroup>{g});
  EXPECT_EQ(ReadFile(path), RuleFileToYaml({g}));

  auto tenants = store.Tenants();
  ASSERT_TRUE(tenants.ok());
  EXPECT_EQ(*tenants, std::vector<std::string>{"tenant-a"});
}

TEST(RuleStore, SetReplacesInPlaceAndAppendsNew) {
  testing::TempDir tmp("rules");
  RuleStore store(tmp.path());
  ASSERT_TRUE(store.SetGroup("t", "ns", Group("a")).ok());
  ASSERT_TRUE(store.SetGroup("t", "ns", Group("b")).ok());
  ASSERT_TRUE(store.SetGroup("t", "ns", Group("c")).ok());
  RuleGroup b2 = Group("b", "replaced");
  b2.limit = 3;
  ASSERT_TRUE(store.SetGroup("t", "ns", b2).ok());

  auto groups = store.GetNamespace("t", "ns");
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  ASSERT_EQ(groups->size(), 3u);
  EXPECT_EQ((*groups)[0], Group("a"));
  EXPECT_EQ((*groups)[1], b2);
  EXPECT_EQ((*groups)[2], Group("c"));
}

TEST(RuleStore, ListAndTenants) {
  testing::TempDir tmp("rules");
  RuleStore store(tmp.path());
  ASSERT_TRUE(store.SetGroup("t2", "zeta", Group("z")).ok());
  ASSERT_TRUE(store.SetGroup("t1", "beta", Group("b1")).ok());
  ASSERT_TRUE(store.SetGroup("t1", "beta", Group("b2")).ok());
  ASSERT_TRUE(store.SetGroup("t1", "alpha", Group("a")).ok());
  fs::create_directories(tmp.Sub("empty-tenant"));

  auto tenants = store.Tenants();
  ASSERT_TRUE(tenants.ok());
  EXPECT_EQ(*tenants, (std::vector<std::string>{"t1", "t2"}));

  auto list = store.List("t1");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  RuleNamespaces want;
  want["alpha"] = {Group("a")};
  want["beta"] = {Group("b1"), Group("b2")};
  EXPECT_EQ(*list, want);
  auto empty = store.List("empty-tenant");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(RuleStore, DeleteGroupAndNamespace) {
  testing::TempDir tmp("rules");
  RuleStore store(tmp.path());
  ASSERT_TRUE(store.SetGroup("t", "ns", Group("a")).ok());
  ASSERT_TRUE(store.SetGroup("t", "ns", Group("b")).ok());
  ASSERT_TRUE(store.SetGroup("t", "other", Group("x")).ok());

  EXPECT_EQ(store.DeleteGroup("t", "ns", "missing").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store.DeleteGroup("t", "ns", "a").ok());
  auto groups = store.GetNamespace("t", "ns");
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(*groups, std::vector<RuleGroup>{Group("b")});

  // Deleting the last group removes the namespace file.
  ASSERT_TRUE(store.DeleteGroup("t", "ns", "b").ok());
  EXPECT_FALSE(fs::exists(tmp.Sub("t/ns")));
  EXPECT_EQ(store.GetNamespace("t", "ns").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.DeleteGroup("t", "ns", "b").code(), StatusCode::kNotFound);

  ASSERT_TRUE(store.DeleteNamespace("t", "other").ok());
  EXPECT_EQ(store.DeleteNamespace("t", "other").code(), StatusCode::kNotFound);
  auto list = store.List("t");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  auto tenants = store.Tenants();
  ASSERT_TRUE(tenants.ok());
  EXPECT_TRUE(tenants->empty());
}

TEST(RuleStore, WritesLeaveNoTemporaries) {
  testing::TempDir tmp("rules");
  RuleStore store(tmp.path());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store.SetGroup("t", "ns", Group("g" + std::to_string(i))).ok());
  ASSERT_TRUE(store.DeleteGroup("t", "ns", "g0").ok());
  EXPECT_EQ(DirNames(tmp.Sub("t")), std::vector<std::string>{"ns"});
}

TEST(RuleStore, ListingIgnoresDotFilesAndSubdirectories) {
  testing::TempDir tmp("rules");
  RuleStore store(tmp.path());
  ASSERT_TRUE(store.SetGroup("t", "ns", Group("a")).ok());
  WriteFile(tmp.Sub("t/.ns.tmp-abc123"), "not: [valid yaml");
  WriteFile(tmp.Sub("t/.hidden"), "garbage");
  WriteFile(tmp.Sub("t/subdir/inner"), "garbage");
  WriteFile(tmp.Sub(".hidden-tenant/ns"), RuleFileToYaml({Group("h")}));

  auto list = store.List("t");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->begin()->first, "ns");
  auto tenants = store.Tenants();
  ASSERT_TRUE(tenants.ok());
  EXPECT_EQ(*tenants, std::vector<std::string>{"t"});
  // A directory is not a namespace.
  EXPECT_EQ(store.GetNamespace("t", "subdir").status().code(), StatusCode::kNotFound);
}

TEST(RuleStore, ReadsHandWrittenLokiFiles) {
  testing::TempDir tmp("rules");
  WriteFile(tmp.Sub("fake/rules.yaml"), R"(groups:
  - name: should_fire
    rules:
      - alert: HighPercentageError
        expr: |
          sum(rate({app="foo", env="production"} |= "error" [5m])) by (job)
            /
          sum(rate({app="foo", env="production"}[5m])) by (job)
            > 0.05
        for: 10m
        labels:
          severity: page
        annotations:
          summary: High request latency
)");
  RuleStore store(tmp.path());
  auto g = store.GetGroup("fake", "rules.yaml", "should_fire");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->rules.size(), 1u);
  EXPECT_EQ(g->rules[0].for_ms, 600000);
  // Writing to it keeps the hand-written group.
  ASSERT_TRUE(store.SetGroup("fake", "rules.yaml", Group("added")).ok());
  auto groups = store.GetNamespace("fake", "rules.yaml");
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0], *g);
}

TEST(RuleStore, CorruptFileIsReportedWithItsPath) {
  testing::TempDir tmp("rules");
  RuleStore store(tmp.path());
  ASSERT_TRUE(store.SetGroup("t", "good", Group("a")).ok());
  const std::string bad = tmp.Sub("t/bad");
  WriteFile(bad, "groups:\n- name: g\n  rulez: []\n");

  auto list = store.List("t");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(list.status().message(),
            "error parsing " + bad +
                ": yaml: unmarshal errors:\n  line 3: field rulez not found in type "
                "rulefmt.RuleGroup");

  auto ns = store.GetNamespace("t", "bad");
  EXPECT_EQ(ns.status().code(), StatusCode::kCorruption);
  // A file that fails validation is just as corrupt.
  WriteFile(bad, "groups:\n- name: g\n  rules:\n  - record: a-b\n    expr: vector(1)\n");
  ns = store.GetNamespace("t", "bad");
  EXPECT_EQ(ns.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ns.status().message(), "error parsing " + bad + ": invalid recording rule name: a-b");

  // A write must not clobber a file it could not read.
  Status s = store.SetGroup("t", "bad", Group("new"));
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(ReadFile(bad), "groups:\n- name: g\n  rules:\n  - record: a-b\n    expr: vector(1)\n");
  // Other namespaces stay usable one by one.
  EXPECT_TRUE(store.GetNamespace("t", "good").ok());
}

TEST(RuleStore, InvalidGroupsAreNotWritten) {
  testing::TempDir tmp("rules");
  RuleStore store(tmp.path());
  RuleGroup g = Group("g", "bad-name");
  Status s = store.SetGroup("t", "ns", g);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "invalid recording rule name: bad-name");
  EXPECT_FALSE(fs::exists(tmp.Sub("t/ns")));
}

TEST(RuleStore, BadNamesAreRejected) {
  EXPECT_TRUE(CheckStoreName("namespace", "rules.yaml").ok());
  EXPECT_TRUE(CheckStoreName("namespace", "a..b").ok());
  EXPECT_TRUE(CheckStoreName("tenant", std::string(255, 'x')).ok());
  EXPECT_TRUE(CheckStoreName("namespace", "ünïcode ns").ok());

  const struct {
    std::string name;
    std::string error;
  } cases[] = {
      {"", "namespace name must not be empty"},
      {".", "invalid namespace name \".\": path traversal not allowed"},
      {"..", "invalid namespace name \"..\": path traversal not allowed"},
      {".hidden", "invalid namespace name \".hidden\": must not start with '.'"},
      {std::string(256, 'x'),
       "invalid namespace name \"" + std::string(256, 'x') + "\": longer than 255 bytes"},
      {"a/b", "invalid namespace name \"a/b\": must not contain '/'"},
      {"../etc", "invalid namespace name \"../etc\": must not start with '.'"},
      {std::string("a\0b", 3), "invalid namespace name \"a\\x00b\": must not contain NUL"},
  };
  for (const auto& c : cases) {
    Status s = CheckStoreName("namespace", c.name);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(s.message(), c.error);
  }

  testing::TempDir tmp("rules");
  RuleStore store(tmp.path());
  EXPECT_EQ(store.SetGroup("..", "ns", Group("g")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.SetGroup("t", "a/b", Group("g")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.SetGroup("t", ".tmp", Group("g")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.GetNamespace("t", "..").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.GetGroup("", "ns", "g").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.DeleteGroup("t", "", "g").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.DeleteNamespace("t/x", "ns").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.List("..").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.SetGroup("", "ns", Group("g")).message(), "tenant name must not be empty");
  EXPECT_TRUE(DirNames(tmp.path()).empty());
}

TEST(RuleStore, ConcurrentSetGroupKeepsEveryGroup) {
  testing::TempDir tmp("rules");
  RuleStore store(tmp.path());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string name = "g-" + std::to_string(t) + "-" + std::to_string(i);
        if (!store.SetGroup("t", "ns", Group(name)).ok()) failures[t]++;
        // Readers run alongside the writers and always see a whole file.
        if (!store.GetNamespace("t", "ns").ok()) failures[t]++;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);

  auto parsed = ParseRuleFileYaml(ReadFile(tmp.Sub("t/ns")));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<std::string> names;
  for (const RuleGroup& g : *parsed) names.push_back(g.name);
  std::sort(names.begin(), names.end());
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const std::string name = "g-" + std::to_string(t) + "-" + std::to_string(i);
      EXPECT_TRUE(std::binary_search(names.begin(), names.end(), name)) << name;
    }
  }
  EXPECT_EQ(DirNames(tmp.Sub("t")), std::vector<std::string>{"ns"});
}

}  // namespace
}  // namespace skald::ruler
