// libFuzzer target for the ruler's inputs. The first byte picks a mode:
//   0: the rest is a rule group (the body of POST /loki/api/v1/rules/{ns}); what parses must
//      print back to YAML that parses to the same group (GroupToYaml round trip).
//   1: the rest is a rule file (`groups:`), the same round trip through RuleFileToYaml.
//   2: the rest is an alert label/annotation template, parsed with Prometheus' function set
//      behind the header the ruler puts in front of it, then executed.
//   3: the rest is a Prometheus duration; what parses must format and parse back equal.
// Any failure must be a clean Status; crashes, sanitizer reports and round-trip mismatches
// are bugs.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "logql/template.h"
#include "ruler/rules.h"

namespace {

void Check(bool cond) {
  if (!cond) __builtin_trap();
}

class AlertData : public skald::logql::TemplateData {
 public:
  std::optional<std::string_view> Label(std::string_view name) const override {
    auto it = labels_.find(name);
    if (it == labels_.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  std::string_view Line() const override { return {}; }
  int64_t TimestampNanos() const override { return 1765000000000000000; }
  void ForEachLabel(
      const std::function<void(std::string_view, std::string_view)>& fn) const override {
    for (const auto& [k, v] : labels_) fn(k, v);
  }

 private:
  std::map<std::string, std::string, std::less<>> labels_ = {
      {"alertname", "HighErrors"}, {"instance", "host-1:9100"}, {"job", "api"}, {"value", "3"}};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 16384) return 0;
  const uint8_t mode = data[0] % 4;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  using namespace skald::ruler;  // NOLINT
  switch (mode) {
    case 0: {
      auto g = ParseRuleGroupYaml(in);
      if (!g.ok()) return 0;
      auto back = ParseRuleGroupYaml(GroupToYaml(*g));
      Check(back.ok() && *back == *g);
      break;
    }
    case 1: {
      auto f = ParseRuleFileYaml(in);
      if (!f.ok()) return 0;
      auto back = ParseRuleFileYaml(RuleFileToYaml(*f));
      Check(back.ok() && *back == *f);
      break;
    }
    case 2: {
      std::string text = "{{$labels := .}}{{$value := 12.5}}{{$externalURL := \"http://x\"}}";
      text.append(in);
      auto t = skald::logql::Template::Parse(text, "__alert_HighErrors",
                                             skald::logql::TemplateFuncs::kPrometheusAlerts,
                                             "http://grafana:3000/sub");
      if (!t.ok()) return 0;
      std::string out;
      (void)t->Execute(AlertData(), &out);
      break;
    }
    case 3: {
      auto d = ParsePromDuration(in);
      if (!d.ok()) return 0;
      auto back = ParsePromDuration(FormatPromDuration(*d));
      Check(back.ok() && *back == *d);
      break;
    }
  }
  return 0;
}
