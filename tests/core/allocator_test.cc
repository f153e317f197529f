// core/allocator: which allocator serves malloc, purging, and its counters. The test is built
// twice: core_allocator_test links nothing extra (the C library's malloc), and
// core_allocator_jemalloc_test links jemalloc as the skald binary does (when CMake's
// SKALD_ALLOCATOR is jemalloc; SKALD_TEST_JEMALLOC tells the test which it is).
#include "core/allocator.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace skald::allocator {
namespace {

#if defined(SKALD_TEST_JEMALLOC)

TEST(AllocatorTest, JemallocIsDetected) {
  EXPECT_STREQ(Name(), "jemalloc");
  Stats s = Read();
  ASSERT_TRUE(s.ok);
  EXPECT_GT(s.allocated, 0u);
  EXPECT_GE(s.active, s.allocated);
  EXPECT_GE(s.resident, s.active);
  EXPECT_GT(s.metadata, 0u);
}

TEST(AllocatorTest, CountersFollowAllocations) {
  const uint64_t before = Read().allocated;
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int i = 0; i < 64; ++i) blocks.emplace_back(new char[256 << 10]);
  const uint64_t during = Read().allocated;
  // Small objects cached per thread make the counter lag by up to a few hundred KiB.
  EXPECT_GE(during, before + 60 * (256u << 10));
  blocks.clear();
  EXPECT_LT(Read().allocated, during - 32 * (256u << 10));
}

// jemalloc keeps freed pages resident for its decay time (10 s without the binary's
// malloc_conf); ReleaseFreeMemory hands them back at once.
TEST(AllocatorTest, ReleaseFreeMemoryReturnsFreedPages) {
  constexpr size_t kBlock = 64 << 10, kBlocks = 1024;  // 64 MiB in blocks that stay in arenas
  std::vector<std::unique_ptr<char[]>> blocks;
  for (size_t i = 0; i < kBlocks; ++i) {
    blocks.emplace_back(new char[kBlock]);
    std::memset(blocks.back().get(), 1, kBlock);  // make the pages resident
  }
  const uint64_t resident_full = Read().resident;
  blocks.clear();
  const uint64_t resident_freed = Read().resident;
  ReleaseFreeMemory();
  const uint64_t resident_released = Read().resident;
  EXPECT_GT(resident_full, kBlock * kBlocks);
  // Freed but not yet purged: most of it still resident.
  EXPECT_GT(resident_freed, resident_full / 2);
  EXPECT_LT(resident_released, resident_freed - kBlock * kBlocks / 2);
}

#else

TEST(AllocatorTest, LibcIsDetected) {
  EXPECT_STREQ(Name(), "libc");
  EXPECT_FALSE(Read().ok);
  std::vector<std::string> v(1000, std::string(1000, 'x'));
  v.clear();
  ReleaseFreeMemory();  // malloc_trim: must not disturb live memory
  std::string s(1 << 20, 'y');
  EXPECT_EQ(s[12345], 'y');
}

#endif

}  // namespace
}  // namespace skald::allocator
