// Tiny Go-style command-line flag parser for skald-bench.
//
// Accepts -name=value, -name value, --name=value, --name value; boolean flags
// as -name (true) or -name=false. Positional arguments may appear anywhere;
// "--" ends flag parsing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace skald::bench {

class FlagSet {
 public:
  void String(const std::string& name, std::string* v, const std::string& help);
  void Int(const std::string& name, int64_t* v, const std::string& help);
  void Int32(const std::string& name, int* v, const std::string& help);
  void Uint(const std::string& name, uint64_t* v, const std::string& help);
  void Double(const std::string& name, double* v, const std::string& help);
  void Bool(const std::string& name, bool* v, const std::string& help);
  // Go duration ("30s", "1m30s", "500ms") or Prometheus duration ("1h", "1d"), stored as ns.
  void Duration(const std::string& name, int64_t* ns, const std::string& help);

  // Parses args; non-flag arguments go to *positional. -h/-help/--help sets
  // *help (if given) instead of failing. Errors (InvalidArgument):
  // `flag provided but not defined: -x`, `flag needs an argument: -x`,
  // `invalid value "v" for flag -x`.
  Status Parse(const std::vector<std::string>& args, std::vector<std::string>* positional,
               bool* help);

  // One line per flag: "  -name <type>  help (default: value)".
  std::string Usage() const;

 private:
  enum class Kind { kString, kInt, kInt32, kUint, kDouble, kBool, kDuration };
  struct Flag {
    std::string name;
    Kind kind;
    void* ptr;
    std::string help;
    std::string def;
  };
  void Add(const std::string& name, Kind kind, void* ptr, const std::string& help);
  static std::string ValueString(const Flag& f);
  static Status Set(const Flag& f, const std::string& value);
  std::vector<Flag> flags_;
};

}  // namespace skald::bench
