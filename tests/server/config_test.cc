// Tests for configuration loading: YAML, flags, precedence and error texts.
#include "server/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace skald::server {
namespace {

StatusOr<Config> Load(std::vector<std::string> args) {
  std::vector<const char*> argv = {"skald"};
  for (const auto& a : args) argv.push_back(a.c_str());
  return LoadConfig(static_cast<int>(argv.size()), argv.data());
}

std::string WriteTemp(const std::string& content) {
  char path[] = "/tmp/skald_config_test_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << content;
  return path;
}

template <class T>
std::string Err(const StatusOr<T>& s) {
  EXPECT_FALSE(s.ok());
  return s.ok() ? "<ok>" : s.status().message();
}

TEST(ConfigTest, DefaultsMatchLokiExceptDocumentedOnes) {
  auto c = Load({});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->target, "all");
  EXPECT_FALSE(c->auth_enabled);
  EXPECT_EQ(c->no_auth_tenant, "fake");
  EXPECT_EQ(c->server.http_listen_port, 3100);
  EXPECT_EQ(c->server.grpc_listen_port, 9095);
  EXPECT_EQ(c->ingester.chunk_block_size, 262144);
  EXPECT_EQ(c->ingester.chunk_target_size, 1572864);
  EXPECT_EQ(c->ingester.max_chunk_age_ns, 2 * kNanosPerHour);
  EXPECT_EQ(c->limits_config.max_query_length_ns, 721 * kNanosPerHour);
  EXPECT_EQ(c->limits_config.discover_service_name.size(), 13u);
  EXPECT_EQ(c->limits_config.discover_service_name.front(), "service");
}

TEST(ConfigTest, YamlWithLokiKeyNames) {
  auto c = ParseConfigYaml(R"(
auth_enabled: true
target: all
server:
  http_listen_port: 3200
  http_listen_address: 127.0.0.1
  log_level: debug
common:
  path_prefix: /var/lib/skald
ingester:
  chunk_block_size: 131072
  chunk_target_size: 0
  chunk_encoding: zstd
  max_chunk_age: 1h30m
  chunk_idle_period: 1h
  flush_check_period: 15s
  concurrent_flushes: 4
limits_config:
  max_line_size: 256KB
  max_structured_metadata_size: 1MB
  reject_old_samples_max_age: 1w
  max_query_length: 30d1h
  query_timeout: 2m
  ingestion_rate_mb: 10.5
  discover_service_name: [app, job]
  allow_structured_metadata: false
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->auth_enabled);
  EXPECT_EQ(c->server.http_listen_port, 3200);
  EXPECT_EQ(c->server.http_listen_address, "127.0.0.1");
  EXPECT_EQ(c->server.log_level, "debug");
  EXPECT_EQ(c->common.path_prefix, "/var/lib/skald");
  EXPECT_EQ(c->ingester.chunk_block_size, 131072);
  EXPECT_EQ(c->ingester.chunk_target_size, 0);
  EXPECT_EQ(c->ingester.chunk_encoding, "zstd");
  EXPECT_EQ(c->ingester.max_chunk_age_ns, 90 * kNanosPerMinute);
  EXPECT_EQ(c->ingester.chunk_idle_period_ns, kNanosPerHour);
  EXPECT_EQ(c->ingester.flush_check_period_ns, 15 * kNanosPerSecond);
  EXPECT_EQ(c->ingester.concurrent_flushes, 4);
  EXPECT_EQ(c->limits_config.max_line_size, 262144);
  EXPECT_EQ(c->limits_config.max_structured_metadata_size, 1 << 20);
  EXPECT_EQ(c->limits_config.reject_old_samples_max_age_ns, 7 * kNanosPerDay);
  EXPECT_EQ(c->limits_config.max_query_length_ns, 721 * kNanosPerHour);
  EXPECT_EQ(c->limits_config.query_timeout_ns, 2 * kNanosPerMinute);
  EXPECT_EQ(c->limits_config.ingestion_rate_mb, 10.5);
  EXPECT_EQ(c->limits_config.discover_service_name, (std::vector<std::string>{"app", "job"}));
  EXPECT_FALSE(c->limits_config.allow_structured_metadata);
}

TEST(ConfigTest, LokiLocalConfigLoadsAndReportsIgnoredKeys) {
  // Loki's cmd/loki/loki-local-config.yaml (abridged).
  auto c = ParseConfigYaml(R"(
auth_enabled: false
server:
  http_listen_port: 3100
  grpc_listen_port: 9096
  log_level: debug
  grpc_server_max_concurrent_streams: 1000
common:
  instance_addr: 127.0.0.1
  path_prefix: /tmp/loki
  storage:
    filesystem:
      chunks_directory: /tmp/loki/chunks
  replication_factor: 1
  ring:
    kvstore:
      store: inmemory
query_range:
  results_cache:
    cache:
      embedded_cache:
        enabled: true
limits_config:
  metric_aggregation_enabled: true
schema_config:
  configs:
    - from: 2020-10-24
      store: tsdb
      schema: v13
ruler:
  alertmanager_url: http://localhost:9093
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.grpc_listen_port, 9096);
  EXPECT_EQ(c->common.path_prefix, "/tmp/loki");
  EXPECT_EQ(c->ignored_keys,
            (std::vector<std::string>{
                "server.grpc_server_max_concurrent_streams", "common.instance_addr",
                "common.storage.filesystem", "common.replication_factor", "common.ring",
                "query_range.results_cache.cache.embedded_cache.enabled",
                "limits_config.metric_aggregation_enabled", "schema_config"}));
  EXPECT_EQ(c->ruler.alertmanager_url, "http://localhost:9093");
}

TEST(ConfigTest, RulerSettings) {
  auto c = ParseConfigYaml(R"(
ruler:
  evaluation_interval: 30s
  external_url: http://grafana:3000
  enable_sharding: true
  remote_write:
    enabled: true
    clients:
      prom:
        url: http://prometheus:9090/api/v1/write
        remote_timeout: 5s
        queue_config:
          capacity: 100
ruler_storage:
  backend: local
  local:
    directory: /etc/loki/rules
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ruler.evaluation_interval_ns, 30 * kNanosPerSecond);
  EXPECT_EQ(c->ruler.external_url, "http://grafana:3000");
  EXPECT_TRUE(c->ruler.remote_write.enabled);
  EXPECT_EQ(c->ruler.remote_write.url, "http://prometheus:9090/api/v1/write");
  EXPECT_EQ(c->ruler.remote_write.remote_timeout_ns, 5 * kNanosPerSecond);
  EXPECT_EQ(c->ruler_storage.local_directory, "/etc/loki/rules");
  EXPECT_EQ(c->ignored_keys,
            (std::vector<std::string>{"ruler.enable_sharding",
                                      "ruler.remote_write.clients.prom.queue_config"}));
  EXPECT_TRUE(ValidateConfig(*c).ok());

  auto two = ParseConfigYaml(
      "ruler:\n  remote_write:\n    clients:\n      a: {url: http://a}\n      b: {url: "
      "http://b}\n");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("Skald supports one remote-write client, got 2"),
            std::string::npos)
      << two.status().message();

  auto s3 = ParseConfigYaml("ruler_storage:\n  backend: s3\n  s3:\n    bucketnames: rules\n");
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  EXPECT_EQ(ValidateConfig(*s3).message(),
            "unsupported ruler_storage.backend \"s3\": Skald keeps rules on the local file system "
            "(local)");
  auto no_url = ParseConfigYaml("ruler:\n  remote_write:\n    enabled: true\n");
  ASSERT_TRUE(no_url.ok());
  EXPECT_FALSE(ValidateConfig(*no_url).ok());
}

TEST(ConfigTest, TracingSection) {
  // Loki's tracing.enabled is honoured; Skald adds the OTLP endpoint; older Loki keys are
  // accepted and reported.
  auto c = ParseConfigYaml(R"(
tracing:
  enabled: false
  otlp_endpoint: http://otel:4318
  profiling_enabled: true
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->tracing.enabled);
  EXPECT_EQ(c->tracing.otlp_endpoint, "http://otel:4318");
  EXPECT_EQ(c->ignored_keys, (std::vector<std::string>{"tracing.profiling_enabled"}));
  EXPECT_TRUE(Config().tracing.enabled);
  EXPECT_TRUE(Config().tracing.otlp_endpoint.empty()) << "export is off by default";
  auto f = Load({"-tracing.otlp-endpoint=http://collector:4318", "-tracing.enabled=true"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->tracing.otlp_endpoint, "http://collector:4318");
  EXPECT_EQ(Err(ParseConfigYaml("tracing:\n  bogus: 1\n")),
            "unknown config key \"tracing.bogus\" at line 2");
}

TEST(ConfigTest, UnknownKeyNamesFullPath) {
  EXPECT_EQ(Err(ParseConfigYaml("ingester:\n  foo: 1\n")),
            "unknown config key \"ingester.foo\" at line 2");
  EXPECT_EQ(Err(ParseConfigYaml("bogus_section:\n  a: 1\n")),
            "unknown config key \"bogus_section\" at line 1");
}

TEST(ConfigTest, WrongTypesNameTheKey) {
  EXPECT_EQ(Err(ParseConfigYaml("server:\n  http_listen_port: abc\n")),
            "invalid value \"abc\" for config key \"server.http_listen_port\": expected an "
            "integer at line 2");
  EXPECT_EQ(Err(ParseConfigYaml("ingester:\n  max_chunk_age: 2 hours\n")),
            "invalid value \"2 hours\" for config key \"ingester.max_chunk_age\": not a valid "
            "duration (want e.g. \"30s\", \"1h30m\", \"7d\") at line 2");
  EXPECT_EQ(
      Err(ParseConfigYaml("auth_enabled: maybe\n")),
      "invalid value \"maybe\" for config key \"auth_enabled\": expected a boolean at line 1");
  EXPECT_EQ(Err(ParseConfigYaml("server: 5\n")),
            "invalid value for config key \"server\": expected a mapping, got a scalar at line 1");
  EXPECT_EQ(Err(ParseConfigYaml("server:\n  http_listen_port: [1]\n")),
            "invalid value for config key \"server.http_listen_port\": expected a scalar, got a "
            "list at line 2");
  EXPECT_EQ(Err(ParseConfigYaml("limits_config:\n  max_line_size: 12XB\n")),
            "invalid value \"12XB\" for config key \"limits_config.max_line_size\": unknown size "
            "unit \"xb\" at line 2");
}

TEST(ConfigTest, YamlSyntaxErrorHasPosition) {
  std::string e = Err(ParseConfigYaml("server:\n  a: [1, 2\n"));
  EXPECT_EQ(e.rfind("yaml: line ", 0), 0u) << e;
}

TEST(ConfigTest, EmptyYamlKeepsBase) {
  Config base;
  base.server.http_listen_port = 1234;
  auto c = ParseConfigYaml("", base);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server.http_listen_port, 1234);
  c = ParseConfigYaml("server:\n", base);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server.http_listen_port, 1234);
}

TEST(ConfigTest, FlagSyntaxes) {
  auto c = Load({"-server.http-listen-port=4000", "--log.level", "warn", "-auth.enabled", "-target",
                 "all", "--ingester.max-chunk-age=3h", "-validation.reject-old-samples=false",
                 "-validation.discover-service-name=svc, app", "-distributor.max-line-size=1MB",
                 "-ingester.chunks-idle-period=5m", "-ingester.chunks-block-size", "1000"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.http_listen_port, 4000);
  EXPECT_EQ(c->server.log_level, "warn");
  EXPECT_TRUE(c->auth_enabled);
  EXPECT_EQ(c->ingester.max_chunk_age_ns, 3 * kNanosPerHour);
  EXPECT_FALSE(c->limits_config.reject_old_samples);
  EXPECT_EQ(c->limits_config.discover_service_name, (std::vector<std::string>{"svc", "app"}));
  EXPECT_EQ(c->limits_config.max_line_size, 1 << 20);
  EXPECT_EQ(c->ingester.chunk_idle_period_ns, 5 * kNanosPerMinute);
  EXPECT_EQ(c->ingester.chunk_block_size, 1000);
}

TEST(ConfigTest, FlagErrorsUseGoTexts) {
  EXPECT_EQ(Err(Load({"-nope=1"})), "flag provided but not defined: -nope");
  EXPECT_EQ(Err(Load({"-server.http-listen-port"})),
            "flag needs an argument: -server.http-listen-port");
  EXPECT_EQ(Err(Load({"-server.http-listen-port=x"})),
            "invalid value \"x\" for flag -server.http-listen-port: expected an integer");
  EXPECT_EQ(Err(Load({"-auth.enabled=maybe"})),
            "invalid boolean value \"maybe\" for -auth.enabled: parse error");
  EXPECT_EQ(Err(Load({"-ingester.max-chunk-age=soon"})),
            "invalid value \"soon\" for flag -ingester.max-chunk-age: not a valid duration (want "
            "e.g. \"30s\", \"1h30m\", \"7d\")");
  EXPECT_EQ(Err(Load({"stray"})), "unexpected argument \"stray\"");
  EXPECT_EQ(Err(Load({"---x"})), "bad flag syntax: ---x");
}

TEST(ConfigTest, FlagsWinOverYamlRegardlessOfOrder) {
  std::string path = WriteTemp(
      "server:\n  http_listen_port: 3300\n  grpc_listen_port: 9300\n"
      "ingester:\n  chunk_encoding: gzip\n");
  auto c = Load({"-server.http-listen-port=3400", "-config.file=" + path});
  unlink(path.c_str());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.http_listen_port, 3400);  // flag
  EXPECT_EQ(c->server.grpc_listen_port, 9300);  // yaml
  EXPECT_EQ(c->ingester.chunk_encoding, "gzip");
  EXPECT_EQ(c->cli.config_file, path);
}

TEST(ConfigTest, ConfigFileErrorsArePrefixed) {
  EXPECT_EQ(Err(Load({"-config.file=/nonexistent/skald.yaml"})),
            "error loading config from /nonexistent/skald.yaml: No such file or directory");
  std::string path = WriteTemp("ingester:\n  foo: 1\n");
  EXPECT_EQ(
      Err(Load({"-config.file", path})),
      "error loading config from " + path + ": unknown config key \"ingester.foo\" at line 2");
  unlink(path.c_str());
}

TEST(ConfigTest, ExpandEnv) {
  setenv("SKALD_TEST_PORT", "3555", 1);
  unsetenv("SKALD_TEST_UNSET");
  EXPECT_EQ(ExpandEnv("a ${SKALD_TEST_PORT} ${SKALD_TEST_UNSET:-dflt} ${SKALD_TEST_UNSET} $X"),
            "a 3555 dflt  $X");
  std::string path = WriteTemp("server:\n  http_listen_port: ${SKALD_TEST_PORT}\n");
  auto c = Load({"-config.file=" + path, "-config.expand-env=true"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.http_listen_port, 3555);
  // Without -config.expand-env the reference stays literal and fails to parse.
  EXPECT_FALSE(Load({"-config.file=" + path}).ok());
  unlink(path.c_str());
}

TEST(ConfigTest, HelpAndVersionSkipLoading) {
  auto c = Load({"-help", "-config.file=/nonexistent"});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->cli.help);
  c = Load({"-version"});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->cli.version);
  std::string help = FlagsHelp();
  EXPECT_NE(
      help.find("  -server.http-listen-port int\n    \tHTTP server listen port. (default 3100)\n"),
      std::string::npos)
      << help;
  EXPECT_NE(help.find("  -auth.enabled\n"), std::string::npos);
  EXPECT_NE(help.find("  -ingester.chunk-encoding string\n"), std::string::npos);
  EXPECT_NE(help.find("(default \"zstd\")"), std::string::npos);
}

// Issue 10's limits: the ingestion rate strategy is validated, the memory guard's caps parse
// and show in GET /config and GET /runtime_config.
TEST(ConfigTest, RateStrategyAndMemoryGuardSettings) {
  EXPECT_EQ(Err(Load({"-distributor.ingestion-rate-limit-strategy=fair"})),
            "invalid ingestion_rate_strategy \"fair\": must be local or global");
  auto local = Load({"-distributor.ingestion-rate-limit-strategy=local"});
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->limits_config.ingestion_rate_strategy, "local");
  auto runtime = ParseRuntimeConfigYaml("overrides:\n  t:\n    ingestion_rate_strategy: fair\n",
                                        limits::Limits());
  EXPECT_FALSE(runtime.ok());

  EXPECT_GE(Config().ingester.max_head_bytes, 0);
  EXPECT_EQ(Config().ingester.max_head_bytes, DefaultMaxHeadBytes());
  auto c = Load({"-ingester.max-head-bytes=1GB", "-ingester.max-head-bytes-per-user=64MB"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ingester.max_head_bytes, int64_t{1} << 30);
  EXPECT_EQ(c->limits_config.max_head_bytes_per_user, int64_t{64} << 20);
  const std::string y = ConfigToYaml(*c);
  EXPECT_NE(y.find("  max_head_bytes: 1GB\n"), std::string::npos) << y;
  EXPECT_NE(y.find("  max_head_bytes_per_user: 64MB\n"), std::string::npos) << y;

  auto ov = ParseRuntimeConfigYaml(
      "overrides:\n  t:\n    max_head_bytes_per_user: 8MB\n    max_query_lookback: 1h\n",
      limits::Limits());
  ASSERT_TRUE(ov.ok()) << ov.status().ToString();
  limits::Overrides::TenantMap tenants;
  tenants.emplace("t", std::make_shared<const limits::Limits>(ov->overrides.at("t")));
  const std::string diff = RuntimeConfigToYaml(tenants, limits::Limits(), true);
  EXPECT_NE(diff.find("max_head_bytes_per_user: 8MB"), std::string::npos) << diff;
  EXPECT_NE(diff.find("max_query_lookback: 1h"), std::string::npos) << diff;
}

TEST(ConfigTest, Validation) {
  EXPECT_EQ(Err(Load({"-server.http-listen-port=70000"})),
            "invalid server.http_listen_port 70000: must be between 0 and 65535");
  EXPECT_EQ(Err(Load({"-log.level=loud"})), "unrecognized log level \"loud\"");
  EXPECT_EQ(Err(Load({"-ingester.chunk-encoding=brotli"})),
            "invalid encoding: brotli, supported: none, gzip, lz4-64k, snappy, lz4-256k, lz4-1M, "
            "lz4, flate, zstd");
  EXPECT_TRUE(Load({"-ingester.chunk-encoding=LZ4-1m"}).ok());
  EXPECT_EQ(Err(Load({"-ingester.concurrent-flushes=0"})),
            "invalid ingester.concurrent_flushes 0: must be positive");
}

TEST(ConfigTest, YamlRoundTrip) {
  Config c;
  c.auth_enabled = true;
  c.server.http_listen_port = 3999;
  c.common.path_prefix = "/data dir";
  c.ingester.max_chunk_age_ns = 90 * kNanosPerMinute;
  c.limits_config.max_line_size = 512 * 1024;
  c.limits_config.discover_service_name = {"a", "b"};
  c.limits_config.ingestion_rate_mb = 2.5;
  c.target = "";
  std::string y = ConfigToYaml(c);
  EXPECT_NE(y.find("auth_enabled: true\n"), std::string::npos) << y;
  EXPECT_NE(y.find("server:\n  http_listen_address: 0.0.0.0\n  http_listen_port: 3999\n"),
            std::string::npos)
      << y;
  EXPECT_NE(y.find("  max_chunk_age: 1h30m0s\n"), std::string::npos) << y;
  EXPECT_NE(y.find("  max_line_size: 512KB\n"), std::string::npos) << y;
  EXPECT_NE(y.find("  reject_old_samples_max_age: 1w\n"), std::string::npos) << y;
  EXPECT_NE(y.find("  max_query_length: 30d1h\n"), std::string::npos) << y;
  auto back = ParseConfigYaml(y);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << y;
  EXPECT_EQ(ConfigToYaml(*back), y);
  EXPECT_EQ(back->target, "");
  EXPECT_EQ(back->common.path_prefix, "/data dir");
  EXPECT_EQ(back->limits_config.discover_service_name, c.limits_config.discover_service_name);
}

TEST(ConfigTest, DiffYamlListsOnlyChangedSettings) {
  Config c;
  EXPECT_EQ(ConfigDiffToYaml(c), "{}\n");
  c.server.http_listen_port = 3999;
  c.limits_config.max_query_series = 10;
  EXPECT_EQ(ConfigDiffToYaml(c),
            "server:\n  http_listen_port: 3999\nlimits_config:\n  max_query_series: 10\n");
}

TEST(RuntimeConfigTest, RuntimeConfigKeysAndFlags) {
  auto c = ParseConfigYaml("runtime_config:\n  file: /etc/loki/rt.yaml\n  period: 30s\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->runtime_config.file, "/etc/loki/rt.yaml");
  EXPECT_EQ(c->runtime_config.period_ns, 30 * kNanosPerSecond);
  EXPECT_TRUE(c->ignored_keys.empty());
  EXPECT_EQ(Config().runtime_config.period_ns, 10 * kNanosPerSecond);
  auto f = Load({"-runtime-config.file=/x.yaml", "-runtime-config.reload-period=1m"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->runtime_config.file, "/x.yaml");
  EXPECT_EQ(f->runtime_config.period_ns, kNanosPerMinute);
  EXPECT_FALSE(Load({"-runtime-config.reload-period=0s"}).ok());
  EXPECT_NE(ConfigToYaml(Config()).find("runtime_config:\n  period: 10s\n  file: \"\"\n"),
            std::string::npos)
      << ConfigToYaml(Config());
}

TEST(RuntimeConfigTest, OverridesStartFromTheDefaults) {
  limits::Limits d;
  d.max_line_size = 1000;
  auto rt = ParseRuntimeConfigYaml(R"(
overrides:
  tenant-a:
    ingestion_rate_mb: 10
    max_line_size: 512KB
    discover_service_name: [app]
    split_queries_by_interval: 1h
  tenant-b:
    reject_old_samples: false
    reject_old_samples_max_age: 1w
  tenant-c:
configs:
  tenant-a:
    log_push_request: true
)",
                                   d);
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  ASSERT_EQ(rt->overrides.size(), 2u);  // tenant-c: empty entry, defaults
  const limits::Limits& a = rt->overrides.at("tenant-a");
  EXPECT_EQ(a.ingestion_rate_mb, 10);
  EXPECT_EQ(a.max_line_size, 512 << 10);
  EXPECT_EQ(a.discover_service_name, std::vector<std::string>{"app"});
  EXPECT_TRUE(a.reject_old_samples);
  const limits::Limits& b = rt->overrides.at("tenant-b");
  EXPECT_FALSE(b.reject_old_samples);
  EXPECT_EQ(b.reject_old_samples_max_age_ns, 7 * kNanosPerDay);
  EXPECT_EQ(b.max_line_size, 1000);  // from the defaults given, not the built-in ones
  EXPECT_EQ(rt->ignored_keys, (std::vector<std::string>{"configs"}));
  EXPECT_EQ(a.split_queries_by_interval_ns, kNanosPerHour);
}

TEST(RuntimeConfigTest, ErrorsNameTheTenantAndKey) {
  const limits::Limits d;
  EXPECT_EQ(Err(ParseRuntimeConfigYaml("overrides:\n  t1:\n    bogus: 1\n", d)),
            "invalid override for tenant t1: unknown config key \"overrides.t1.bogus\" at line 3");
  EXPECT_EQ(Err(ParseRuntimeConfigYaml("overrides:\n  t1:\n    max_line_size: 12XB\n", d))
                .rfind("invalid override for tenant t1: invalid value \"12XB\" for config key "
                       "\"overrides.t1.max_line_size\"",
                       0),
            0u);
  EXPECT_EQ(Err(ParseRuntimeConfigYaml("overrides:\n  t1:\n    ingestion_rate_mb: -1\n", d)),
            "invalid override for tenant t1: ingestion rate and burst size must not be negative");
  EXPECT_EQ(Err(ParseRuntimeConfigYaml("overides: {}\n", d)),
            "unknown runtime config key \"overides\" at line 1");
  EXPECT_FALSE(ParseRuntimeConfigYaml("overrides: [1\n", d).ok());
  EXPECT_FALSE(ParseRuntimeConfigYaml("overrides:\n  t1: 5\n", d).ok());
  auto empty = ParseRuntimeConfigYaml("", d);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->overrides.empty());
}

TEST(RuntimeConfigTest, LimitsConfigAndOverridesShareTheParser) {
  // The same text gives the same limits in limits_config and in a tenant's override.
  const std::string keys =
      "  max_line_size: 1MB\n  ingestion_burst_size_mb: 12.5\n  query_timeout: 2m\n"
      "  otlp_config:\n    severity_text_as_label: true\n";
  auto c = ParseConfigYaml("limits_config:\n" + keys);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string indented;
  for (size_t i = 0, start = 0; i <= keys.size(); i++) {
    if (i == keys.size() || keys[i] == '\n') {
      if (i > start) indented += "    " + keys.substr(start, i - start) + "\n";
      start = i + 1;
    }
  }
  auto rt = ParseRuntimeConfigYaml("overrides:\n  t:\n" + indented, limits::Limits());
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  limits::Overrides::TenantMap both;
  both["t"] = std::make_shared<const limits::Limits>(rt->overrides.at("t"));
  auto from_config = std::make_shared<const limits::Limits>(c->limits_config);
  limits::Overrides::TenantMap other;
  other["t"] = from_config;
  EXPECT_EQ(RuntimeConfigToYaml(both, limits::Limits(), false),
            RuntimeConfigToYaml(other, limits::Limits(), false));
  EXPECT_TRUE(rt->overrides.at("t").otlp_config.severity_text_as_label);
  EXPECT_EQ(RuntimeConfigToYaml(both, limits::Limits(), true),
            "overrides:\n  t:\n    ingestion_burst_size_mb: 12.5\n    max_line_size: 1MB\n"
            "    query_timeout: 2m\n");
  EXPECT_EQ(RuntimeConfigToYaml({}, limits::Limits(), true), "overrides: {}\n");
}

}  // namespace
}  // namespace skald::server

namespace skald::server {
namespace {

TEST(ConfigS3Test, LokiS3KeysSelectTheBucket) {
  auto none = ObjectStoreS3Config(Config{});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());  // no bucket: the filesystem

  auto c = ParseConfigYaml(R"(
common:
  storage:
    s3:
      s3: s3://ak:sk@eu-west-1/common-bucket
      s3forcepathstyle: true
      sse:
        type: SSE-S3
    filesystem:
      chunks_directory: /tmp/loki/chunks
storage_config:
  aws:
    endpoint: http://127.0.0.1:9000
    backoff_config:
      max_retries: 7
  boltdb_shipper:
    active_index_directory: /tmp/x
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto s3 = ObjectStoreS3Config(*c);
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  ASSERT_TRUE(s3->has_value());
  EXPECT_EQ((*s3)->bucket, "common-bucket");
  EXPECT_EQ((*s3)->region, "eu-west-1");
  EXPECT_EQ((*s3)->endpoint, "http://127.0.0.1:9000");  // aws's endpoint over the url's none
  EXPECT_EQ((*s3)->access_key_id, "ak");
  EXPECT_EQ((*s3)->secret_access_key, "sk");
  EXPECT_TRUE((*s3)->force_path_style);
  EXPECT_EQ((*s3)->backoff.max_retries, 5);  // the common section names the bucket
  for (const char* k :
       {"common.storage.s3.sse", "common.storage.filesystem", "storage_config.boltdb_shipper"}) {
    EXPECT_NE(std::find(c->ignored_keys.begin(), c->ignored_keys.end(), k), c->ignored_keys.end())
        << k;
  }
}

TEST(ConfigS3Test, FlagsUrlFormsAndErrors) {
  const char* argv[] = {"skald", "-s3.url=http://key:secret@minio:9000/logs", "-s3.max-retries=2",
                        "-s3.min-backoff=1s"};
  auto c = LoadConfig(4, argv);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto s3 = ObjectStoreS3Config(*c);
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  EXPECT_EQ((*s3)->endpoint, "http://minio:9000");
  EXPECT_EQ((*s3)->bucket, "logs");
  EXPECT_TRUE((*s3)->force_path_style);
  EXPECT_EQ((*s3)->backoff.max_retries, 2);
  EXPECT_EQ((*s3)->backoff.min_period_ns, kNanosPerSecond);

  Config two;
  two.storage_config.aws.bucketnames = "a,b";
  EXPECT_EQ(ObjectStoreS3Config(two).status().code(), StatusCode::kInvalidArgument);
  Config bad;
  bad.storage_config.aws.url = "gs://x/y";
  EXPECT_EQ(ObjectStoreS3Config(bad).status().code(), StatusCode::kInvalidArgument);
  Config host;
  host.common.storage_s3.url = "s3://s3.example.com/b";
  EXPECT_EQ((*ObjectStoreS3Config(host))->endpoint, "s3.example.com");
}

}  // namespace
}  // namespace skald::server

namespace skald::server {
namespace {

TEST(ConfigS3Test, CredentialsFallBackToTheAwsEnvironment) {
  ::setenv("AWS_ACCESS_KEY_ID", "env-key", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
  ::setenv("AWS_SESSION_TOKEN", "env-token", 1);
  Config c;
  c.storage_config.aws.bucketnames = "b";
  c.storage_config.aws.idle_conn_timeout_ns = 5 * kNanosPerSecond;
  auto s3 = ObjectStoreS3Config(c);
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ((*s3)->access_key_id, "env-key");
  EXPECT_EQ((*s3)->secret_access_key, "env-secret");
  EXPECT_EQ((*s3)->session_token, "env-token");
  EXPECT_EQ((*s3)->idle_conn_timeout_ns, 5 * kNanosPerSecond);
  // Configured keys win over the environment.
  c.storage_config.aws.access_key_id = "cfg-key";
  c.storage_config.aws.secret_access_key = "cfg-secret";
  s3 = ObjectStoreS3Config(c);
  EXPECT_EQ((*s3)->access_key_id, "cfg-key");
  EXPECT_EQ((*s3)->session_token, "");
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_SESSION_TOKEN");
}

}  // namespace
}  // namespace skald::server
