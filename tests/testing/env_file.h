// Reads a shell-style env file of KEY=value lines (what scripts/servers/ start scripts write,
// e.g. s3.env), for tests that find a server through it.
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

namespace skald::testing {

// The KEY=value pairs of the file the environment variable `var` names; empty when the
// variable is unset or the file cannot be read.
inline std::map<std::string, std::string> ReadEnvFileNamedBy(const char* var) {
  std::map<std::string, std::string> env;
  const char* path = std::getenv(var);
  if (path == nullptr) return env;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

}  // namespace skald::testing
