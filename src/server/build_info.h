// What `GET /loki/api/v1/status/buildinfo` and `skald -version` report about this binary.
//
// Field names follow Loki's buildinfo so Grafana and logcli read them unchanged. Values are
// fixed when CMake configures the build tree (see src/server/CMakeLists.txt): re-run
// `cmake --preset <name>` to refresh revision and date. SOURCE_DATE_EPOCH, when set at
// configure time, replaces the clock for reproducible builds.
#pragma once

namespace skald::server {

struct BuildInfo {
  const char* version;     // Loki API level Skald implements, e.g. "3.5.0"
  const char* skald;       // Skald's own release, e.g. "0.1.0"
  const char* revision;    // git commit (short) the tree was configured from, or "unknown"
  const char* branch;      // git branch at configure time, or "unknown"
  const char* build_user;  // user@host that configured the build
  const char* build_date;  // UTC, Loki's format: 2026-12-05T12:00:00Z
  const char* go_version;  // Loki reports Go's runtime version here; Skald reports its
                           // compiler, e.g. "g++ 12.2.0" (no Go runtime is involved)
};

// The values compiled into this binary. Thread-safe (constant).
const BuildInfo& GetBuildInfo();

}  // namespace skald::server
