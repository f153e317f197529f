// Rate-limited log lines for refused data (see refusal_log.h).
#include "distributor/refusal_log.h"

#include "core/logging.h"
#include "core/time.h"

namespace skald::distributor {

namespace {

thread_local RefusalReport* t_report = nullptr;

}  // namespace

RefusalLog::RefusalLog(int64_t interval_ns) : interval_ns_(interval_ns) {}

void RefusalLog::Report(std::string_view tenant, std::string_view reason, uint64_t lines,
                        uint64_t bytes, int64_t now_mono) {
  std::string key;
  key.reserve(tenant.size() + 1 + reason.size());
  key.append(tenant);
  key.push_back('\0');
  key.append(reason);
  State suppressed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = states_.find(key);
    if (it == states_.end()) {
      if (states_.size() >= kMaxKeys) {
        std::erase_if(states_, [&](const auto& kv) {
          return now_mono - kv.second.last_logged >= interval_ns_;
        });
      }
      it = states_.emplace(std::move(key), State{}).first;
    } else if (now_mono - it->second.last_logged < interval_ns_) {
      State& s = it->second;
      s.pushes++;
      s.lines += lines;
      s.bytes += bytes;
      return;
    }
    suppressed = it->second;
    it->second = State{now_mono, 0, 0, 0};
  }
  const log::Level level = reason == "too_far_behind" ? log::Level::kInfo : log::Level::kWarn;
  log::Log(level, "refused log lines",
           {{"tenant", std::string(tenant)},
            {"reason", std::string(reason)},
            {"lines", std::to_string(lines)},
            {"bytes", std::to_string(bytes)},
            {"suppressed_pushes", std::to_string(suppressed.pushes)},
            {"suppressed_lines", std::to_string(suppressed.lines)},
            {"suppressed_bytes", std::to_string(suppressed.bytes)}});
}

RefusalReport::RefusalReport(RefusalLog* log, std::string_view tenant)
    : log_(log), tenant_(tenant), prev_(t_report) {
  t_report = this;
}

RefusalReport::~RefusalReport() {
  t_report = prev_;
  if (items_.empty()) return;
  const int64_t now = MonotonicNanos();
  for (const Item& item : items_) log_->Report(tenant_, item.reason, item.lines, item.bytes, now);
}

RefusalReport* RefusalReport::Current() { return t_report; }

void RefusalReport::Add(std::string_view reason, uint64_t lines, uint64_t bytes) {
  for (Item& item : items_) {
    if (item.reason == reason) {
      item.lines += lines;
      item.bytes += bytes;
      return;
    }
  }
  items_.push_back(Item{std::string(reason), lines, bytes});
}

}  // namespace skald::distributor
