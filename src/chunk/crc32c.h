// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), used to checksum chunk headers,
// block indexes and blocks. Uses the SSE4.2 crc32 instruction when the CPU has it (checked
// once at run time) and a portable slice-by-8 table implementation otherwise.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace skald::chunk::crc32c {

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

}  // namespace skald::chunk::crc32c

namespace skald::chunk {
// Convenience: CRC-32C of a whole buffer (same as crc32c::Value).
inline uint32_t Crc32c(std::string_view s) { return crc32c::Value(s); }
}  // namespace skald::chunk
