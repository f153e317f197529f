#include "core/allocator.h"

#include <cstddef>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// jemalloc's control interface. Weak: null unless the binary links jemalloc (Debian's build
// exports it without a prefix).
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace skald::allocator {

namespace {

bool HaveJemalloc() { return mallctl != nullptr; }

uint64_t ReadSize(const char* name, bool* ok) {
  size_t v = 0;
  size_t len = sizeof(v);
  if (mallctl(name, &v, &len, nullptr, 0) != 0) *ok = false;
  return v;
}

}  // namespace

const char* Name() { return HaveJemalloc() ? "jemalloc" : "libc"; }

void ReleaseFreeMemory() {
  if (HaveJemalloc()) {
    // "arena.<MALLCTL_ARENAS_ALL>.purge": 4096 addresses every arena.
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
    return;
  }
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

Stats Read() {
  Stats s;
  if (!HaveJemalloc()) return s;
  uint64_t epoch = 1;
  size_t len = sizeof(epoch);
  // Statistics are a snapshot taken when the epoch advances.
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0) return s;
  s.ok = true;
  s.allocated = ReadSize("stats.allocated", &s.ok);
  s.active = ReadSize("stats.active", &s.ok);
  s.resident = ReadSize("stats.resident", &s.ok);
  s.metadata = ReadSize("stats.metadata", &s.ok);
  return s;
}

}  // namespace skald::allocator
