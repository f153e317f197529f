// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the one checksum of every
// format Skald writes (chunks, blocks, index files). Uses the SSE4.2 crc32 instruction when the CPU
// has it (checked once at run time) and a portable slice-by-8 table implementation otherwise.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace skald::crc32c {

// Returns the CRC-32C of the concatenation of A and data[0, n), where `crc` is the CRC-32C
// of A (use 0 for an empty A). Values are the final (inverted) CRC, so
// Extend(Extend(0, a), b) == Value(a + b), and Value("123456789") == 0xE3069283.
uint32_t Extend(uint32_t crc, const void* data, size_t n);

// Same as Extend, always using the portable table implementation (exposed for tests and
// benchmarks).
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n);

// True when Extend uses the hardware crc32 instruction.
bool IsHardwareAccelerated();

inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

}  // namespace skald::crc32c

namespace skald {
// CRC-32C of data, continuing from the CRC of what came before (0 to start).
inline uint32_t Crc32c(std::string_view data, uint32_t crc = 0) {
  return crc32c::Extend(crc, data.data(), data.size());
}
// Same, always with the portable table implementation (tests, benchmarks).
inline uint32_t Crc32cPortable(std::string_view data, uint32_t crc = 0) {
  return crc32c::ExtendPortable(crc, data.data(), data.size());
}
}  // namespace skald
