// libFuzzer target for ring instance descriptions (docs/formats/ring.md, src/ring/ring.h):
// the input is a KV value. DecodeInstance must fail cleanly (Corruption) or return an
// instance whose encoding decodes to the same instance (differential round trip); a ring
// built from it must answer lookups. Crashes, sanitizer reports and mismatches are bugs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/status.h"
#include "ring/ring.h"

namespace {

void Check(bool cond) {
  if (!cond) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace skald::ring;  // NOLINT
  auto d = DecodeInstance(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!d.ok()) {
    Check(d.status().code() == skald::StatusCode::kCorruption);
    return 0;
  }
  auto back = DecodeInstance(EncodeInstance(*d));
  Check(back.ok());
  Check(back->id == d->id && back->addr == d->addr && back->zone == d->zone &&
        back->state == d->state && back->heartbeat_ns == d->heartbeat_ns &&
        back->registered_ns == d->registered_ns && back->tokens == d->tokens);
  Ring ring({*d}, 0);
  auto set = ring.Get(static_cast<uint32_t>(size * 2654435761u), Operation::kRead, 3, 0);
  Check(!set.ok() || set->instances.size() == 1);
  return 0;
}
