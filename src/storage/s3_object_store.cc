#include "storage/s3_object_store.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include "core/handle_pool.h"
#include "core/markup_escape.h"
#include "core/metrics.h"
#include "storage/s3_xml.h"
#include "storage/sigv4.h"

namespace skald::storage {

namespace {

constexpr size_t kMinPartSize = 5u << 20;
constexpr size_t kDeleteBatch = 1000;

int64_t MonoNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // without port
  std::string port;    // "" when absent
};

StatusOr<Endpoint> ParseEndpoint(const S3Config& cfg) {
  Endpoint e;
  std::string_view s = cfg.endpoint;
  if (s.empty()) {
    e.scheme = "https";
    e.host = "s3." + cfg.region + ".amazonaws.com";
    return e;
  }
  if (s.starts_with("http://")) {
    e.scheme = "http";
    s.remove_prefix(7);
  } else if (s.starts_with("https://")) {
    e.scheme = "https";
    s.remove_prefix(8);
  } else if (s.find("://") != std::string_view::npos) {
    return Status::InvalidArgument("s3 endpoint: unsupported scheme in \"" + cfg.endpoint + "\"");
  } else {
    e.scheme = cfg.insecure ? "http" : "https";
  }
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  if (s.find('/') != std::string_view::npos) {
    return Status::InvalidArgument("s3 endpoint: a path is not supported in \"" + cfg.endpoint +
                                   "\"");
  }
  size_t colon = s.rfind(':');
  if (colon != std::string_view::npos && s.find(']') == std::string_view::npos) {
    e.port = std::string(s.substr(colon + 1));
    s = s.substr(0, colon);
    if (e.port.empty() || e.port.find_first_not_of("0123456789") != std::string::npos) {
      return Status::InvalidArgument("s3 endpoint: bad port in \"" + cfg.endpoint + "\"");
    }
  }
  if (s.empty()) return Status::InvalidArgument("s3 endpoint: empty host");
  e.host = std::string(s);
  return e;
}

struct Call {
  const char* op = "";  // metric label: "PUT", "GET", "LIST", ...
  std::string method;   // HTTP method
  std::string key;      // "" for the bucket itself
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // signed extra headers
  std::vector<std::string_view> body;
  std::string body_storage;  // owns the body when the call builds it (body points into it)
  bool head = false;
};

struct Reply {
  long status = 0;
  std::string body;
  std::string etag;
  uint64_t content_length = 0;
  bool has_content_length = false;
};

struct Upload {
  const std::vector<std::string_view>* parts;
  size_t index = 0, offset = 0;
};

size_t ReadBody(char* buf, size_t size, size_t n, void* userp) {
  auto* u = static_cast<Upload*>(userp);
  size_t want = size * n, done = 0;
  while (done < want && u->index < u->parts->size()) {
    std::string_view p = (*u->parts)[u->index];
    size_t take = std::min(want - done, p.size() - u->offset);
    std::memcpy(buf + done, p.data() + u->offset, take);
    done += take;
    u->offset += take;
    if (u->offset == p.size()) {
      u->index++;
      u->offset = 0;
    }
  }
  return done;
}

size_t WriteBody(char* buf, size_t size, size_t n, void* userp) {
  static_cast<std::string*>(userp)->append(buf, size * n);
  return size * n;
}

size_t ReadHeader(char* buf, size_t size, size_t n, void* userp) {
  auto* r = static_cast<Reply*>(userp);
  std::string_view line(buf, size * n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    if (name == "etag") r->etag = std::string(value);
    if (name == "content-length") {
      r->content_length = std::strtoull(std::string(value).c_str(), nullptr, 10);
      r->has_content_length = true;
    }
  }
  return size * n;
}

bool Retryable(long status) { return status >= 500 || status == 429 || status == 408; }

}  // namespace

struct S3ObjectStore::Impl {
  Endpoint endpoint;
  sigv4::Credentials creds;
  HandlePool<CURL> handles{[] { return curl_easy_init(); }, [](CURL* c) { curl_easy_cleanup(c); }};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> seed{0};
  metrics::Family<metrics::Histogram>* durations = nullptr;
  metrics::Family<metrics::Counter>* retry_counter = nullptr;
  metrics::Family<metrics::Counter>* bytes = nullptr;  // {operation, direction}
};

Status ValidateS3Config(const S3Config& cfg) {
  if (cfg.bucket.empty()) return Status::InvalidArgument("s3: no bucket configured");
  if (cfg.region.empty()) return Status::InvalidArgument("s3: no region configured");
  if (cfg.part_size < kMinPartSize) {
    return Status::InvalidArgument("s3: part size must be at least 5 MiB");
  }
  if (cfg.access_key_id.empty() != cfg.secret_access_key.empty()) {
    return Status::InvalidArgument("s3: access key id and secret access key go together");
  }
  if (cfg.list_page_size < 1 || cfg.list_page_size > 1000) {
    return Status::InvalidArgument("s3: list page size must be in [1, 1000]");
  }
  return ParseEndpoint(cfg).status();
}

S3ObjectStore::S3ObjectStore(S3Config cfg, metrics::Registry* registry)
    : cfg_(std::move(cfg)), breaker_(cfg_.breaker), impl_(std::make_unique<Impl>()) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->endpoint = *ParseEndpoint(cfg_);
  impl_->creds = {cfg_.access_key_id, cfg_.secret_access_key, cfg_.session_token};
  impl_->seed.store(std::random_device{}(), std::memory_order_relaxed);
  if (registry != nullptr) {
    impl_->durations = &registry->Histogram(
        "skald_s3_request_duration_seconds",
        "Time spent on requests to S3-compatible object storage (each attempt).",
        {"operation", "status_code"}, metrics::ExponentialBuckets(0.005, 2, 14));
    impl_->retry_counter =
        &registry->Counter("skald_s3_request_retries_total",
                           "Requests to object storage retried after a failure.", {"operation"});
    impl_->bytes = &registry->Counter(
        "skald_s3_request_bytes_total",
        "Payload bytes of successful object storage requests: sent (PUT, part uploads) or "
        "received (GET).",
        {"operation", "direction"});
    CircuitBreaker* b = &breaker_;
    registry->GaugeFunc("skald_s3_circuit_breaker_state",
                        "State of the object storage circuit breaker: 0 closed, 1 open, 2 "
                        "half-open.",
                        [b] { return static_cast<double>(b->state()); });
    registry->CounterFunc("skald_s3_circuit_breaker_opened_total",
                          "Times the object storage circuit breaker opened.",
                          [b] { return static_cast<double>(b->opened()); });
  }
}

S3ObjectStore::~S3ObjectStore() = default;

StatusOr<std::unique_ptr<S3ObjectStore>> S3ObjectStore::Open(S3Config cfg,
                                                             metrics::Registry* registry) {
  SKALD_RETURN_IF_ERROR(ValidateS3Config(cfg));
  return std::unique_ptr<S3ObjectStore>(new S3ObjectStore(std::move(cfg), registry));
}

uint64_t S3ObjectStore::retries() const { return impl_->retries.load(std::memory_order_relaxed); }

namespace {

// One HTTP exchange. Transport failures come back as IOError; any HTTP status as a Reply.
// `payload_sha256` is the body's hash, computed once per call (not per attempt).
StatusOr<Reply> Attempt(S3ObjectStore::Impl* impl, const S3Config& cfg, const Call& call,
                        const std::string& payload_sha256) {
  const Endpoint& ep = impl->endpoint;
  const bool vhost = !cfg.force_path_style;
  std::string host = (vhost ? cfg.bucket + "." : "") + ep.host;
  std::string host_header = host;
  if (!ep.port.empty()) host_header += ":" + ep.port;
  std::string path = vhost ? "/" : "/" + sigv4::UriEncode(cfg.bucket, false) + "/";
  if (!call.key.empty()) path += sigv4::UriEncode(call.key, true);
  if (!vhost && call.key.empty()) path.pop_back();  // "/bucket"

  sigv4::Request req;
  req.method = call.method;
  req.canonical_uri = path;
  req.query = call.query;
  req.payload_sha256 = payload_sha256;
  const std::string amz_date = sigv4::AmzDate(std::time(nullptr));
  req.headers = call.headers;
  req.headers.emplace_back("host", host_header);
  req.headers.emplace_back("x-amz-date", amz_date);
  req.headers.emplace_back("x-amz-content-sha256", req.payload_sha256);
  if (!impl->creds.session_token.empty()) {
    req.headers.emplace_back("x-amz-security-token", impl->creds.session_token);
  }

  std::string url = ep.scheme + "://" + host_header + path;
  const std::string q = sigv4::CanonicalQuery(call.query);
  if (!q.empty()) url += "?" + q;

  curl_slist* headers = nullptr;
  for (const auto& [n, v] : req.headers)
    headers = curl_slist_append(headers, (n + ": " + v).c_str());
  if (!impl->creds.access_key.empty()) {
    headers = curl_slist_append(
        headers,
        ("Authorization: " + sigv4::Authorization(impl->creds, cfg.region, "s3", amz_date, req))
            .c_str());
  }
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Content-Type:");

  CURL* c = impl->handles.Take();
  if (c == nullptr) {
    curl_slist_free_all(headers);
    return Status::Internal("s3: curl_easy_init failed");
  }
  curl_easy_reset(c);
  Reply reply;
  size_t body_size = 0;
  for (std::string_view p : call.body) body_size += p.size();
  Upload upload{&call.body};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(cfg.connect_timeout_ns / 1'000'000));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(cfg.request_timeout_ns / 1'000'000));
  curl_easy_setopt(
      c, CURLOPT_MAXAGE_CONN,
      static_cast<long>(std::max<int64_t>(cfg.idle_conn_timeout_ns / 1'000'000'000, 1)));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &reply);
  if (cfg.insecure_skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (call.head) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (call.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size));
  } else if (call.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_size));
  } else if (call.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    impl->handles.Discard(c);  // the connection may be in any state
    // Unreachable, timed out, reset: the store is unavailable (retried, counted by the breaker).
    return Status::Unavailable(std::string("s3: ") + call.op + " " + call.key + ": " +
                               curl_easy_strerror(rc));
  }
  impl->handles.Give(c);
  return reply;
}

Status HttpError(const Call& call, const Reply& r) {
  std::string code = s3xml::ElementText(r.body, "Code"),
              message = s3xml::ElementText(r.body, "Message");
  std::string m = std::string("s3: ") + call.op + (call.key.empty() ? "" : " " + call.key) +
                  ": HTTP " + std::to_string(r.status);
  if (!code.empty()) m += " " + code;
  if (!message.empty()) m += ": " + message;
  if (r.status == 404) return Status::NotFound(m);
  if (r.status == 503 || r.status == 429) return Status::Unavailable(m);
  return Status::IOError(m);
}

}  // namespace

namespace {

// Breaker + retries around Attempt. Returns the last reply (any status) or the last error.
StatusOr<Reply> Execute(S3ObjectStore::Impl* impl, const S3Config& cfg, CircuitBreaker* breaker,
                        const Call& call) {
  Backoff backoff(cfg.backoff, impl->seed.fetch_add(0x9E3779B97F4A7C15ULL) + MonoNanos());
  // A 16 MiB part hashes in tens of milliseconds: once, whatever the retries.
  const std::string payload_sha256 =
      call.body.empty() ? std::string(sigv4::kEmptyPayloadSha256) : sigv4::Sha256Hex(call.body);
  for (int attempt = 0;; attempt++) {
    SKALD_RETURN_IF_ERROR(breaker->Allow(MonoNanos(), "object storage"));
    const int64_t t0 = MonoNanos();
    StatusOr<Reply> r = Attempt(impl, cfg, call, payload_sha256);
    const double secs = static_cast<double>(MonoNanos() - t0) / 1e9;
    const bool failed = !r.ok() || Retryable(r->status);
    if (impl->durations != nullptr) {
      impl->durations->WithLabels({call.op, r.ok() ? std::to_string(r->status) : "error"})
          .Observe(secs);
    }
    if (failed) {
      breaker->RecordFailure(MonoNanos());
    } else {
      breaker->RecordSuccess();
      if (impl->bytes != nullptr && r->status / 100 == 2) {
        size_t sent = 0;
        for (std::string_view part : call.body) sent += part.size();
        if (sent > 0) impl->bytes->WithLabels({call.op, "sent"}).Inc(static_cast<double>(sent));
        if (!r->body.empty()) {
          impl->bytes->WithLabels({call.op, "received"}).Inc(static_cast<double>(r->body.size()));
        }
      }
      return r;
    }
    if (attempt >= cfg.backoff.max_retries) {
      if (!r.ok()) return r.status();
      return r;
    }
    impl->retries.fetch_add(1, std::memory_order_relaxed);
    if (impl->retry_counter != nullptr) impl->retry_counter->WithLabels({call.op}).Inc();
    std::this_thread::sleep_for(std::chrono::nanoseconds(backoff.Delay(attempt)));
  }
}

}  // namespace

Status S3ObjectStore::Put(std::string_view key, std::string_view data) {
  std::string_view parts[] = {data};
  return PutParts(key, parts);
}

Status S3ObjectStore::PutParts(std::string_view key, std::span<const std::string_view> parts) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  size_t total = 0;
  for (std::string_view p : parts) total += p.size();
  if (total <= cfg_.part_size) {
    Call call;
    call.op = "PUT";
    call.method = "PUT";
    call.key = std::string(key);
    call.body.assign(parts.begin(), parts.end());
    SKALD_ASSIGN_OR_RETURN(Reply r, Execute(impl_.get(), cfg_, &breaker_, call));
    if (r.status != 200) return HttpError(call, r);
    return Status::OK();
  }

  // Multipart: create, upload part_size pieces, complete (abort on any failure).
  Call create;
  create.op = "CREATE_MULTIPART";
  create.method = "POST";
  create.key = std::string(key);
  create.query = {{"uploads", ""}};
  SKALD_ASSIGN_OR_RETURN(Reply cr, Execute(impl_.get(), cfg_, &breaker_, create));
  if (cr.status != 200) return HttpError(create, cr);
  const std::string upload_id = s3xml::ElementText(cr.body, "UploadId");
  if (upload_id.empty())
    return Status::IOError("s3: multipart upload of " + create.key +
                           ": no UploadId in the response");
  auto abort = [&](Status s) {
    Call a;
    a.op = "ABORT_MULTIPART";
    a.method = "DELETE";
    a.key = std::string(key);
    a.query = {{"uploadId", upload_id}};
    (void)Execute(impl_.get(), cfg_, &breaker_, a);
    return s;
  };
  std::string complete = "<CompleteMultipartUpload>";
  size_t pi = 0, po = 0;
  for (int number = 1; pi < parts.size(); number++) {
    Call up;
    up.op = "UPLOAD_PART";
    up.method = "PUT";
    up.key = std::string(key);
    up.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
    size_t room = cfg_.part_size;
    while (room > 0 && pi < parts.size()) {
      std::string_view p = parts[pi].substr(po);
      size_t take = std::min(room, p.size());
      if (take > 0) up.body.push_back(p.substr(0, take));
      room -= take;
      po += take;
      if (po == parts[pi].size()) {
        pi++;
        po = 0;
      }
    }
    if (up.body.empty()) break;
    StatusOr<Reply> ur = Execute(impl_.get(), cfg_, &breaker_, up);
    if (!ur.ok()) return abort(ur.status());
    if (ur->status != 200) return abort(HttpError(up, *ur));
    if (ur->etag.empty()) return abort(Status::IOError("s3: upload part: no ETag"));
    complete += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>";
    AppendXmlEscaped(&complete, ur->etag);
    complete += "</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";
  Call done;
  done.op = "COMPLETE_MULTIPART";
  done.method = "POST";
  done.key = std::string(key);
  done.query = {{"uploadId", upload_id}};
  done.body = {complete};
  StatusOr<Reply> dr = Execute(impl_.get(), cfg_, &breaker_, done);
  if (!dr.ok()) return abort(dr.status());
  // S3 may answer 200 with an <Error> body when the completion fails late.
  if (dr->status != 200 || dr->body.find("<Error>") != std::string::npos) {
    return abort(HttpError(done, *dr));
  }
  return Status::OK();
}

StatusOr<std::string> S3ObjectStore::Get(std::string_view key) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  Call call;
  call.op = "GET";
  call.method = "GET";
  call.key = std::string(key);
  SKALD_ASSIGN_OR_RETURN(Reply r, Execute(impl_.get(), cfg_, &breaker_, call));
  if (r.status != 200) return HttpError(call, r);
  if (r.has_content_length && r.content_length != r.body.size()) {
    return Status::IOError("s3: GET " + call.key + ": short body");
  }
  return std::move(r.body);
}

StatusOr<std::string> S3ObjectStore::GetRange(std::string_view key, uint64_t offset,
                                              uint64_t length) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  if (length == 0) {
    SKALD_ASSIGN_OR_RETURN(uint64_t size, Size(key));
    if (offset > size) return Status::Corruption("range past the end of " + std::string(key));
    return std::string();
  }
  Call call;
  call.op = "GET_RANGE";
  call.method = "GET";
  call.key = std::string(key);
  call.headers = {
      {"range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}};
  SKALD_ASSIGN_OR_RETURN(Reply r, Execute(impl_.get(), cfg_, &breaker_, call));
  if (r.status == 416) {
    return Status::Corruption("s3: range " + std::to_string(offset) + "+" + std::to_string(length) +
                              " past the end of " + call.key);
  }
  if (r.status != 206 && r.status != 200) return HttpError(call, r);
  if (r.status == 200) {  // the server ignored the range: cut it ourselves
    if (offset + length > r.body.size()) {
      return Status::Corruption("s3: range past the end of " + call.key);
    }
    return r.body.substr(offset, length);
  }
  if (r.body.size() != length) {
    return Status::Corruption("s3: range " + std::to_string(offset) + "+" + std::to_string(length) +
                              " past the end of " + call.key);
  }
  return std::move(r.body);
}

StatusOr<uint64_t> S3ObjectStore::Size(std::string_view key) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  Call call;
  call.op = "HEAD";
  call.method = "HEAD";
  call.head = true;
  call.key = std::string(key);
  SKALD_ASSIGN_OR_RETURN(Reply r, Execute(impl_.get(), cfg_, &breaker_, call));
  if (r.status != 200) return HttpError(call, r);
  return r.content_length;
}

Status S3ObjectStore::CheckBucket() {
  Call call;
  call.op = "HEAD_BUCKET";
  call.method = "HEAD";
  call.head = true;
  SKALD_ASSIGN_OR_RETURN(Reply r, Execute(impl_.get(), cfg_, &breaker_, call));
  if (r.status == 404) {  // a HEAD response has no error document to name it
    return Status::NotFound("s3: bucket \"" + cfg_.bucket + "\" does not exist (NoSuchBucket)");
  }
  if (r.status != 200) {
    Status s = HttpError(call, r);
    return Status(s.code(), s.message() + " (bucket \"" + cfg_.bucket + "\")");
  }
  return Status::OK();
}

Status S3ObjectStore::CreateBucket() {
  Call call;
  call.op = "CREATE_BUCKET";
  call.method = "PUT";
  if (cfg_.region != "us-east-1") {
    call.body_storage = "<CreateBucketConfiguration><LocationConstraint>" + cfg_.region +
                        "</LocationConstraint></CreateBucketConfiguration>";
    call.body = {call.body_storage};
  }
  SKALD_ASSIGN_OR_RETURN(Reply r, Execute(impl_.get(), cfg_, &breaker_, call));
  if (r.status == 200) return Status::OK();
  if (r.status == 409 && s3xml::ElementText(r.body, "Code") == "BucketAlreadyOwnedByYou") {
    return Status::OK();
  }
  return HttpError(call, r);
}

Status S3ObjectStore::DeleteBucket() {
  Call call;
  call.op = "DELETE_BUCKET";
  call.method = "DELETE";
  SKALD_ASSIGN_OR_RETURN(Reply r, Execute(impl_.get(), cfg_, &breaker_, call));
  if (r.status == 204 || r.status == 200) return Status::OK();
  return HttpError(call, r);
}

StatusOr<std::vector<std::string>> S3ObjectStore::List(std::string_view prefix) {
  SKALD_RETURN_IF_ERROR(ValidateKeyPrefix(prefix));
  std::vector<std::string> keys;
  std::string token;
  while (true) {
    Call call;
    call.op = "LIST";
    call.method = "GET";
    call.query = {{"list-type", "2"}, {"max-keys", std::to_string(cfg_.list_page_size)}};
    if (!prefix.empty()) call.query.emplace_back("prefix", std::string(prefix));
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    SKALD_ASSIGN_OR_RETURN(Reply r, Execute(impl_.get(), cfg_, &breaker_, call));
    if (r.status != 200) return HttpError(call, r);
    SKALD_ASSIGN_OR_RETURN(s3xml::ListPage page, s3xml::ParseListPage(r.body));
    for (std::string& k : page.keys) keys.push_back(std::move(k));
    if (!page.truncated) break;
    std::string next = std::move(page.next_token);
    if (next.empty() || next == token) {
      return Status::IOError("s3: LIST " + std::string(prefix) +
                             ": truncated listing without a new continuation token");
    }
    token = std::move(next);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

Status S3ObjectStore::Delete(std::string_view key) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  Call call;
  call.op = "DELETE";
  call.method = "DELETE";
  call.key = std::string(key);
  SKALD_ASSIGN_OR_RETURN(Reply r, Execute(impl_.get(), cfg_, &breaker_, call));
  if (r.status == 204 || r.status == 200 || r.status == 404) return Status::OK();
  return HttpError(call, r);
}

Status S3ObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  for (const std::string& k : keys) SKALD_RETURN_IF_ERROR(ValidateKey(k));
  for (size_t b = 0; b < keys.size(); b += kDeleteBatch) {
    std::string body = "<Delete><Quiet>true</Quiet>";
    for (size_t i = b; i < std::min(keys.size(), b + kDeleteBatch); i++) {
      body += "<Object><Key>";
      AppendXmlEscaped(&body, keys[i]);
      body += "</Key></Object>";
    }
    body += "</Delete>";
    Call call;
    call.op = "DELETE_OBJECTS";
    call.method = "POST";
    call.query = {{"delete", ""}};
    call.headers = {{"content-md5", sigv4::Md5Base64(body)}};
    call.body = {body};
    SKALD_ASSIGN_OR_RETURN(Reply r, Execute(impl_.get(), cfg_, &breaker_, call));
    if (r.status != 200) return HttpError(call, r);
    size_t pos = 0;
    std::string_view err;
    if (s3xml::NextElement(r.body, "Error", &pos, &err)) {
      std::string code = s3xml::ElementText(err, "Code");
      if (code != "NoSuchKey") {
        return Status::IOError("s3: DELETE_OBJECTS: " + s3xml::ElementText(err, "Key") + ": " +
                               code + " " + s3xml::ElementText(err, "Message"));
      }
    }
  }
  return Status::OK();
}

}  // namespace skald::storage
