#include "tests/testing/in_process_skald.h"

#include <gtest/gtest.h>

#include <utility>

namespace skald::testing {

InProcessSkald::InProcessSkald(std::string data_dir, std::vector<std::string> flags,
                               server::AppHooks hooks)
    : data_dir_(std::move(data_dir)), flags_(std::move(flags)), hooks_(std::move(hooks)) {}

InProcessSkald::~InProcessSkald() { (void)Stop(); }

Status InProcessSkald::Start() {
  if (app_) return Status::Internal("already running");
  std::vector<std::string> args = {"skald",
                                   "-server.http-listen-address=127.0.0.1",
                                   "-server.http-listen-port=0",
                                   "-server.grpc-listen-port=0",
                                   "-server.grpc-listen-address=127.0.0.1",
                                   "-common.path-prefix=" + data_dir_};
  args.insert(args.end(), flags_.begin(), flags_.end());
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  SKALD_ASSIGN_OR_RETURN(config_, server::LoadConfig(static_cast<int>(argv.size()), argv.data()));
  SKALD_ASSIGN_OR_RETURN(app_, server::App::Create(config_, hooks_));
  Status st = app_->Start();
  if (!st.ok()) app_.reset();
  return st;
}

Status InProcessSkald::Stop() {
  if (!app_) return Status::OK();
  Status st = app_->Shutdown();
  app_.reset();
  return st;
}

int InProcessSkald::port() const { return app_ ? app_->http_port() : 0; }

StatusOr<http::HttpResponse> InProcessSkald::Call(std::string_view method, std::string_view target,
                                                  const http::HeaderList& headers,
                                                  std::string_view body) const {
  const int p = port();
  if (p == 0) return Status::Internal("not listening");
  return http::Fetch("127.0.0.1", p, method, target, headers, body);
}

std::string InProcessSkald::Metrics() const {
  auto r = Call("GET", "/metrics");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  EXPECT_EQ(r->status, 200);
  return r->body;
}

}  // namespace skald::testing
