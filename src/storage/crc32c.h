// CRC-32C (Castagnoli, polynomial 0x1EDC6F41 / reflected 0x82F63B78), the
// checksum of Skald's stored formats (index files, chunk keys). Uses the
// SSE4.2 crc32 instruction when the CPU has it, a slicing-by-8 table otherwise.
#pragma once

#include <cstdint>
#include <string_view>

namespace skald::storage {

// CRC-32C of `data` continuing from a previous result `crc` (0 to start):
// Crc32c(b, Crc32c(a)) == Crc32c(a + b). Crc32c("123456789") == 0xE3069283.
// Thread-safe.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

// Same result as Crc32c() but always the table implementation (for tests).
uint32_t Crc32cPortable(std::string_view data, uint32_t crc = 0);

}  // namespace skald::storage
