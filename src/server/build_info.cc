#include "server/build_info.h"

namespace skald::server {

namespace {
#if defined(__clang__)
#define SKALD_COMPILER "clang++ " __clang_version__
#elif defined(__GNUC__)
#define SKALD_COMPILER "g++ " __VERSION__
#else
#define SKALD_COMPILER "unknown"
#endif
}  // namespace

const BuildInfo& GetBuildInfo() {
  static const BuildInfo info = {
      SKALD_LOKI_API_VERSION, SKALD_VERSION,    SKALD_GIT_REVISION, SKALD_GIT_BRANCH,
      SKALD_BUILD_USER,       SKALD_BUILD_DATE, SKALD_COMPILER,
  };
  return info;
}

}  // namespace skald::server
