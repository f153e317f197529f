// frontend.Frontend/Process: queriers pull queries from the frontend's RequestQueue.
#include <grpcpp/grpcpp.h>

#include "core/logging.h"
#include "frontend/frontend.grpc.pb.h"
#include "frontend/queue.h"
#include "rpc/internal.h"

namespace skald::rpc {

namespace {

// How often a stream waiting for work checks whether its querier is still there.
constexpr int64_t kPollNanos = 500'000'000;

class FrontendService final : public ::frontend::Frontend::Service {
 public:
  explicit FrontendService(frontend::RequestQueue* queue) : queue_(queue) {}

  grpc::Status Process(grpc::ServerContext* ctx,
                       grpc::ServerReaderWriter<::frontend::FrontendToClient,
                                                ::frontend::ClientToFrontend>* stream) override {
    // First learn who the querier is (Loki's GET_ID exchange).
    ::frontend::FrontendToClient ask;
    ask.set_type(::frontend::GET_ID);
    ::frontend::ClientToFrontend hello;
    if (!stream->Write(ask) || !stream->Read(&hello)) {
      return {grpc::StatusCode::CANCELLED, "querier went away"};
    }
    queue_->ClientConnected();
    grpc::Status out = Serve(ctx, stream, hello.clientid());
    queue_->ClientDisconnected();
    return out;
  }

  grpc::Status NotifyClientShutdown(grpc::ServerContext*,
                                    const ::frontend::NotifyClientShutdownRequest*,
                                    ::frontend::NotifyClientShutdownResponse*) override {
    return grpc::Status::OK;
  }

 private:
  grpc::Status Serve(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<::frontend::FrontendToClient, ::frontend::ClientToFrontend>* stream,
      const std::string& client) {
    while (!ctx->IsCancelled()) {
      std::shared_ptr<frontend::Task> task = queue_->Next(kPollNanos);
      if (task == nullptr) {
        if (queue_->stopped()) break;
        continue;
      }
      ::frontend::FrontendToClient msg;
      msg.set_type(::frontend::HTTP_REQUEST);
      ::httpgrpc::HTTPRequest* req = msg.mutable_httprequest();
      const frontend::Request& r = task->request();
      req->set_method(r.method);
      req->set_url(r.url);
      req->set_body(r.body);
      for (const auto& [k, v] : r.headers) {
        ::httpgrpc::Header* h = req->add_headers();
        h->set_key(k);
        h->add_values(v);
      }
      ::frontend::ClientToFrontend reply;
      if (!stream->Write(msg) || !stream->Read(&reply)) {
        queue_->Retry(std::move(task), "querier " + client + " went away");
        return {grpc::StatusCode::CANCELLED, "querier went away"};
      }
      frontend::Response resp;
      const ::httpgrpc::HTTPResponse& h = reply.httpresponse();
      resp.code = h.code();
      resp.body = h.body();
      for (const ::httpgrpc::Header& hd : h.headers()) {
        for (const std::string& v : hd.values()) resp.headers.emplace_back(hd.key(), v);
      }
      task->Complete(std::move(resp));
    }
    return grpc::Status::OK;
  }

  frontend::RequestQueue* queue_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewFrontendService(frontend::RequestQueue* queue) {
  return std::make_unique<FrontendService>(queue);
}

}  // namespace skald::rpc
