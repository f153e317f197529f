// The runtime config loader (see runtime_config.h).
#include "server/runtime_config.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/logging.h"
#include "server/config.h"

namespace skald::server {

RuntimeConfigLoader::RuntimeConfigLoader(std::string path, int64_t period_ns,
                                         limits::Overrides* overrides, metrics::Registry* registry)
    : path_(std::move(path)), period_ns_(period_ns), overrides_(overrides) {
  // dskit registers these under the `loki_` prefix with config="loki".
  last_reload_ok_ =
      &registry
           ->AddGauge("loki_runtime_config_last_reload_successful",
                      "Whether the last runtime-config reload attempt was successful.", {"config"})
           .WithLabels({"loki"});
}

Status RuntimeConfigLoader::Load() {
  std::ifstream in(path_, std::ios::binary);
  Status st;
  std::string text;
  if (!in) {
    st = Status::InvalidArgument("load file: open " + path_ + ": " + std::strerror(errno));
  } else {
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (st.ok() && loaded_ && text == last_text_) {  // unchanged: nothing to parse
    last_reload_ok_->Set(1);
    last_error_.clear();
    return st;
  }
  StatusOr<RuntimeConfig> parsed = Status::OK();
  if (st.ok()) {
    parsed = ParseRuntimeConfigYaml(text, overrides_->defaults());
    if (!parsed.ok())
      st = Status::InvalidArgument("load file: " + path_ + ": " + parsed.status().message());
  }
  if (!st.ok()) {
    last_reload_ok_->Set(0);
    if (loaded_ && st.message() != last_error_) {
      log::Warn("failed to load runtime config", {{"err", st.message()}});
    }
    last_error_ = st.message();
    return st;
  }
  limits::Overrides::TenantMap tenants;
  for (auto& [tenant, lim] : parsed->overrides) {
    tenants.emplace(tenant, std::make_shared<const limits::Limits>(std::move(lim)));
  }
  const size_t count = tenants.size();
  overrides_->SetTenantLimits(std::move(tenants));
  for (const std::string& key : parsed->ignored_keys) {
    log::Warn(
        "runtime config key accepted for Loki compatibility but not implemented: it has "
        "no effect",
        {{"key", key}});
  }
  log::Info(loaded_ ? "runtime config reloaded" : "runtime config loaded",
            {{"file", path_}, {"tenants", std::to_string(count)}});
  loaded_ = true;
  last_text_ = std::move(text);
  last_error_.clear();
  last_reload_ok_->Set(1);
  return Status::OK();
}

void RuntimeConfigLoader::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void RuntimeConfigLoader::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RuntimeConfigLoader::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (cv_.wait_for(lock, std::chrono::nanoseconds(period_ns_), [this] { return stop_; })) break;
    lock.unlock();
    (void)Load();
    lock.lock();
  }
}

}  // namespace skald::server
