// Log-line corpus and deterministic line generator for skald-bench.
//
// A corpus is a set of sources (one per *.log file, or a built-in one), each a
// list of template lines. Every template is analysed once into literal text and
// variable slots (digit runs, hex ids, IPv4 addresses); the generator copies a
// template and rewrites its slots with pseudo-random values so generated lines
// keep the shape and vocabulary of real logs (words, literals used by queries)
// but are not verbatim repeats. Output is a pure function of (seed, source,
// stream number): the same flags always produce the same data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace skald::bench {

// xoshiro256** seeded through splitmix64. Cheap, deterministic, not for crypto.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t Next();
  // Uniform in [0, n) for n > 0 (multiply-shift; tiny bias is irrelevant here).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<__uint128_t>(Next()) * n) >> 64);
  }

 private:
  uint64_t s_[4];
};

// Mixes several values into one seed (splitmix64 finaliser chain).
uint64_t MixSeed(uint64_t a, uint64_t b);

enum class SlotKind : uint8_t {
  kDigits,  // run of [0-9]: the trailing ceil(len/2) digits are randomised (same length)
  kHex,     // >= 6 chars of [0-9a-fA-F] with a digit and a letter, alnum-bounded: all
            // randomised, letters keep the template's case (same length)
  kIpv4,    // d.d.d.d with 1-3 digit octets: four random octets (length may change)
};

struct Slot {
  uint32_t begin;
  uint32_t len;
  SlotKind kind;
};

struct Template {
  std::string text;
  std::vector<Slot> slots;  // sorted, non-overlapping
};

// Finds the variable slots of one line. Thread-safe.
Template AnalyzeTemplate(std::string line);

struct CorpusSource {
  std::string name;  // file stem ("HDFS_2k") or "builtin"
  std::vector<Template> templates;
  uint64_t bytes = 0;  // sum of template line lengths
};

class Corpus {
 public:
  // Loads every regular file named *.log directly inside dir (sorted by name),
  // one source per file; blank lines are skipped and a trailing '\r' is
  // dropped. Errors: NotFound (dir missing / no *.log file with a line),
  // IOError (read failure).
  static StatusOr<Corpus> LoadDir(const std::string& dir);
  // A small corpus compiled into the binary (one source, a few dozen lines in
  // the style of application, web and system logs).
  static Corpus BuiltIn();

  const std::vector<CorpusSource>& sources() const { return sources_; }
  size_t TotalLines() const;
  uint64_t TotalBytes() const;
  // Where the corpus came from (directory path or "builtin").
  const std::string& origin() const { return origin_; }

 private:
  std::vector<CorpusSource> sources_;
  std::string origin_;
};

// Looks for testdata/loghub in the current directory, the directory of the
// executable (argv0 or /proc/self/exe) and up to four parents of each. Returns
// "" if none has a *.log file.
std::string FindDefaultCorpusDir(const char* argv0);

// Generates the line sequence of one stream: template i of the stream's
// source is (start + i) mod templates; slots are filled from an Rng seeded by
// (seed, stream). Not thread-safe; one generator per stream.
class LineGenerator {
 public:
  LineGenerator(const CorpusSource* source, uint64_t seed, uint64_t stream);

  // Replaces *out with the next line (reuses out's capacity).
  void Next(std::string* out);

 private:
  const CorpusSource* source_;
  Rng rng_;
  size_t pos_;
};

}  // namespace skald::bench
