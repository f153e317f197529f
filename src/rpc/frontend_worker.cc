#include "rpc/frontend_worker.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/logging.h"
#include "frontend/frontend.grpc.pb.h"

namespace skald::rpc {

struct FrontendWorker::Impl {
  FrontendWorkerOptions opts;
  Handler handler;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<::frontend::Frontend::Stub> stub;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::set<grpc::ClientContext*> open;  // streams to cancel on Stop

  // One stream's life: open, answer queries until it breaks. True if it got going (the
  // backoff starts over).
  bool RunStream() {
    grpc::ClientContext ctx;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) return false;
      open.insert(&ctx);
    }
    bool served = false;
    auto stream = stub->Process(&ctx);
    ::frontend::FrontendToClient msg;
    while (stream->Read(&msg)) {
      served = true;
      ::frontend::ClientToFrontend reply;
      reply.set_clientid(opts.client_id);
      if (msg.type() == ::frontend::HTTP_REQUEST) {
        frontend::Request req;
        const ::httpgrpc::HTTPRequest& h = msg.httprequest();
        req.method = h.method();
        req.url = h.url();
        req.body = h.body();
        for (const ::httpgrpc::Header& hd : h.headers()) {
          for (const std::string& v : hd.values()) req.headers.emplace_back(hd.key(), v);
        }
        frontend::Response resp = handler(req);
        ::httpgrpc::HTTPResponse* out = reply.mutable_httpresponse();
        out->set_code(resp.code);
        out->set_body(std::move(resp.body));
        for (auto& [k, v] : resp.headers) {
          ::httpgrpc::Header* hd = out->add_headers();
          hd->set_key(k);
          hd->add_values(v);
        }
      }
      if (!stream->Write(reply)) break;
    }
    stream->WritesDone();
    grpc::Status st = stream->Finish();
    {
      std::lock_guard<std::mutex> lock(mu);
      open.erase(&ctx);
    }
    if (!st.ok() && st.error_code() != grpc::StatusCode::CANCELLED) {
      log::Debug("frontend stream ended",
                 {{"frontend", opts.frontend_address}, {"err", st.error_message()}});
    }
    return served;
  }

  void Loop() {
    int64_t backoff_ms = 100;
    for (;;) {
      if (RunStream()) backoff_ms = 100;
      std::unique_lock<std::mutex> lock(mu);
      if (cv.wait_for(lock, std::chrono::milliseconds(backoff_ms), [this] { return stopping; })) {
        return;
      }
      backoff_ms = std::min<int64_t>(backoff_ms * 2, 5000);
    }
  }
};

FrontendWorker::FrontendWorker(FrontendWorkerOptions opts, Handler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->opts = std::move(opts);
  impl_->handler = std::move(handler);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(100 << 20);
  args.SetMaxSendMessageSize(100 << 20);
  impl_->channel = grpc::CreateCustomChannel(impl_->opts.frontend_address,
                                             grpc::InsecureChannelCredentials(), args);
  impl_->stub = ::frontend::Frontend::NewStub(impl_->channel);
}

FrontendWorker::~FrontendWorker() { Stop(); }

void FrontendWorker::Start() {
  for (int i = 0; i < std::max(1, impl_->opts.concurrency); i++) {
    impl_->threads.emplace_back([this] { impl_->Loop(); });
  }
  log::Info("querier worker connecting to the query frontend",
            {{"frontend", impl_->opts.frontend_address},
             {"concurrency", std::to_string(impl_->threads.size())}});
}

void FrontendWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopping && impl_->threads.empty()) return;
    impl_->stopping = true;
    for (grpc::ClientContext* c : impl_->open) c->TryCancel();
  }
  impl_->cv.notify_all();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace skald::rpc
