#include "ring/etcd_kv.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <mutex>

#include "core/handle_pool.h"
#include "core/json_escape.h"

namespace skald::ring {

namespace {

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

StatusOr<std::string> Unbase64(std::string_view in) {
  if (in.size() % 4 != 0) return Status::Corruption("etcd: bad base64 length");
  std::string out(in.size() / 4 * 3 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return Status::Corruption("etcd: bad base64");
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  if (!in.empty() && in.back() == '=') len--;
  if (in.size() > 1 && in[in.size() - 2] == '=') len--;
  out.resize(len);
  return out;
}

// An int64 etcd sends as a JSON string (or, rarely, a number); 0 when absent.
int64_t Int64Field(simdjson::dom::element obj, std::string_view name) {
  simdjson::dom::element e;
  if (obj[name].get(e) != simdjson::SUCCESS) return 0;
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS) return std::strtoll(std::string(s).c_str(), nullptr, 10);
  int64_t v = 0;
  if (e.get(v) == simdjson::SUCCESS) return v;
  return 0;
}

size_t Append(char* buf, size_t size, size_t n, void* userp) {
  static_cast<std::string*>(userp)->append(buf, size * n);
  return size * n;
}

// A watch stream's state: the body so far, and the revision of the first event.
struct WatchState {
  std::string buf;
  int64_t event_revision = 0;
};

size_t WatchWrite(char* buf, size_t size, size_t n, void* userp) {
  auto* w = static_cast<WatchState*>(userp);
  w->buf.append(buf, size * n);
  size_t nl;
  while ((nl = w->buf.find('\n')) != std::string::npos) {
    std::string line = w->buf.substr(0, nl);
    w->buf.erase(0, nl + 1);
    simdjson::dom::parser parser;
    simdjson::dom::element doc, result, events;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS) continue;
    if (doc["result"].get(result) != simdjson::SUCCESS) continue;
    if (result["events"].get(events) != simdjson::SUCCESS) continue;
    simdjson::dom::element header;
    if (result["header"].get(header) == simdjson::SUCCESS) {
      w->event_revision = Int64Field(header, "revision");
    }
    if (w->event_revision == 0) w->event_revision = 1;
    return 0;  // an event: stop the transfer (curl reports a write error we expect)
  }
  return size * n;
}

}  // namespace

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c < 0xff) {
      c++;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

struct EtcdKV::Impl {
  HandlePool<CURL> handles{[] { return curl_easy_init(); }, [](CURL* c) { curl_easy_cleanup(c); }};
};

EtcdKV::EtcdKV(EtcdConfig cfg) : cfg_(std::move(cfg)), impl_(std::make_unique<Impl>()) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

EtcdKV::~EtcdKV() = default;

StatusOr<std::unique_ptr<EtcdKV>> EtcdKV::Open(EtcdConfig cfg) {
  while (!cfg.endpoint.empty() && cfg.endpoint.back() == '/') cfg.endpoint.pop_back();
  if (!cfg.endpoint.starts_with("http://") && !cfg.endpoint.starts_with("https://")) {
    return Status::InvalidArgument("etcd endpoint \"" + cfg.endpoint +
                                   "\": must be an http:// or https:// URL");
  }
  return std::unique_ptr<EtcdKV>(new EtcdKV(std::move(cfg)));
}

namespace {

// POSTs `body` to `path`; the parsed JSON answer, or an error naming etcd's message.
Status Call(EtcdKV::Impl* impl, const EtcdConfig& cfg, const std::string& path,
            const std::string& body, simdjson::dom::parser* parser, simdjson::dom::element* out,
            std::string* raw) {
  CURL* c = impl->handles.Take();
  if (c == nullptr) return Status::Internal("etcd: curl_easy_init failed");
  curl_easy_reset(c);
  const std::string url = cfg.endpoint + path;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  raw->clear();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(cfg.request_timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(cfg.request_timeout_ms));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, raw);
  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    impl->handles.Discard(c);
    return Status::Unavailable("etcd " + path + ": " + curl_easy_strerror(rc));
  }
  impl->handles.Give(c);
  if (parser->parse(*raw).get(*out) != simdjson::SUCCESS || !out->is_object()) {
    return Status::Corruption("etcd " + path + ": HTTP " + std::to_string(status) +
                              ": not a JSON object");
  }
  if (status != 200) {
    std::string_view msg;
    if ((*out)["message"].get(msg) != simdjson::SUCCESS) msg = *raw;
    const std::string m = "etcd " + path + ": " + std::string(msg);
    if (status == 404 || msg.find("not found") != std::string_view::npos) {
      return Status::NotFound(m);
    }
    return status >= 500 ? Status::Unavailable(m) : Status::InvalidArgument(m);
  }
  return Status::OK();
}

std::string JsonKV(std::initializer_list<std::pair<const char*, std::string>> fields) {
  std::string out = "{";
  for (const auto& [k, v] : fields) {
    if (out.size() > 1) out.push_back(',');
    out += "\"";
    out += k;
    out += "\":";
    AppendJsonString(&out, v);
  }
  out += "}";
  return out;
}

}  // namespace

StatusOr<std::vector<KVEntry>> EtcdKV::List(std::string_view prefix, int64_t* revision) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string raw;
  SKALD_RETURN_IF_ERROR(
      Call(impl_.get(), cfg_, "/v3/kv/range",
           JsonKV({{"key", Base64(prefix)}, {"range_end", Base64(PrefixEnd(prefix))}}), &parser,
           &doc, &raw));
  std::vector<KVEntry> out;
  simdjson::dom::array kvs;
  if (doc["kvs"].get(kvs) == simdjson::SUCCESS) {
    for (simdjson::dom::element kv : kvs) {
      std::string_view k, v;
      if (kv["key"].get(k) != simdjson::SUCCESS) return Status::Corruption("etcd: kv without key");
      if (kv["value"].get(v) != simdjson::SUCCESS) v = "";
      KVEntry e;
      SKALD_ASSIGN_OR_RETURN(e.key, Unbase64(k));
      SKALD_ASSIGN_OR_RETURN(e.value, Unbase64(v));
      e.mod_revision = Int64Field(kv, "mod_revision");
      out.push_back(std::move(e));
    }
  }
  if (revision != nullptr) {
    simdjson::dom::element header;
    *revision = doc["header"].get(header) == simdjson::SUCCESS ? Int64Field(header, "revision") : 0;
  }
  return out;
}

Status EtcdKV::Put(std::string_view key, std::string_view value, int64_t lease) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string raw;
  return Call(
      impl_.get(), cfg_, "/v3/kv/put",
      JsonKV({{"key", Base64(key)}, {"value", Base64(value)}, {"lease", std::to_string(lease)}}),
      &parser, &doc, &raw);
}

Status EtcdKV::Delete(std::string_view key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string raw;
  return Call(impl_.get(), cfg_, "/v3/kv/deleterange", JsonKV({{"key", Base64(key)}}), &parser,
              &doc, &raw);
}

StatusOr<int64_t> EtcdKV::GrantLease(int64_t ttl_seconds) {
  if (ttl_seconds <= 0) return Status::InvalidArgument("lease TTL must be positive");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string raw;
  SKALD_RETURN_IF_ERROR(Call(impl_.get(), cfg_, "/v3/lease/grant",
                             JsonKV({{"TTL", std::to_string(ttl_seconds)}}), &parser, &doc, &raw));
  const int64_t id = Int64Field(doc, "ID");
  if (id == 0) return Status::Corruption("etcd: lease grant without ID: " + raw);
  return id;
}

Status EtcdKV::KeepAlive(int64_t lease) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc, result;
  std::string raw;
  SKALD_RETURN_IF_ERROR(Call(impl_.get(), cfg_, "/v3/lease/keepalive",
                             JsonKV({{"ID", std::to_string(lease)}}), &parser, &doc, &raw));
  // An expired or unknown lease answers without a TTL.
  if (doc["result"].get(result) != simdjson::SUCCESS || Int64Field(result, "TTL") <= 0) {
    return Status::NotFound("etcd: lease " + std::to_string(lease) + " not found");
  }
  return Status::OK();
}

Status EtcdKV::RevokeLease(int64_t lease) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string raw;
  Status st = Call(impl_.get(), cfg_, "/v3/lease/revoke", JsonKV({{"ID", std::to_string(lease)}}),
                   &parser, &doc, &raw);
  return st.code() == StatusCode::kNotFound ? Status::OK() : st;
}

StatusOr<int64_t> EtcdKV::WaitForChange(std::string_view prefix, int64_t revision,
                                        std::chrono::milliseconds timeout) {
  const std::string body = "{\"create_request\":" +
                           JsonKV({{"key", Base64(prefix)},
                                   {"range_end", Base64(PrefixEnd(prefix))},
                                   {"start_revision", std::to_string(revision + 1)}}) +
                           "}";
  CURL* c = curl_easy_init();  // a stream of its own, not pooled
  if (c == nullptr) return Status::Internal("etcd: curl_easy_init failed");
  const std::string url = cfg_.endpoint + "/v3/watch";
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  WatchState w;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(cfg_.request_timeout_ms));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WatchWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  if (w.event_revision > 0) return w.event_revision;
  if (rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_OK) return revision;
  return Status::Unavailable(std::string("etcd /v3/watch: ") + curl_easy_strerror(rc));
}

}  // namespace skald::ring
