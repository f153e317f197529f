// skald: the single binary. With no flags it runs every role in one process
// (HTTP on :3100, data under ./data). SIGTERM/SIGINT flush all in-memory data
// to the store and exit 0.
#include <pthread.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/allocator.h"
#include "core/logging.h"
#include "server/app.h"
#include "server/build_info.h"
#include "server/config.h"

// Read by jemalloc when it starts, if the binary links it (cmake/Deps.cmake); MALLOC_CONF in
// the environment is applied after it. A background thread returns freed pages to the kernel
// over the ten seconds after they were freed, with MADV_DONTNEED rather than MADV_FREE (muzzy
// decay 0), so RSS shows what is held; a flush purges at once (allocator::ReleaseFreeMemory).
// Ten seconds rather than two: a query over 1,000,000 streams frees a few hundred MB of
// bookkeeping, and with two seconds the next query faulted it all in again (absent-word
// query 3.7 -> 3.25 CPU-s, medians of 6; RSS after a 1,000-stream load unchanged).
extern "C" {
__attribute__((used)) const char* malloc_conf =
    "background_thread:true,dirty_decay_ms:10000,muzzy_decay_ms:0";
}

namespace {

// glibc's allocator adapts its mmap threshold to the largest block freed so far, so whether
// a query's multi-megabyte read buffers come from the heap (reused) or from fresh mappings
// (page faults on every query) depended on what the process had freed before: an absent-word
// scan of 241 MB took 0.022 or 0.045 CPU-s depending on it. Fixed thresholds make it
// predictable; a flush returns freed memory explicitly (malloc_trim). Environment settings
// (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, GLIBC_TUNABLES) still win.
void TuneAllocator() {
#if defined(__GLIBC__)
  if (std::strcmp(skald::allocator::Name(), "libc") != 0) return;
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 32 << 20);
  if (std::getenv("MALLOC_TRIM_THRESHOLD_") == nullptr) mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  using namespace skald;
  TuneAllocator();
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "-help") == 0 || std::strcmp(argv[i], "--help") == 0 ||
        std::strcmp(argv[i], "-h") == 0) {
      std::fputs(server::FlagsHelp().c_str(), stdout);  // starts with "Usage of skald:"
      return 0;
    }
    if (std::strcmp(argv[i], "-version") == 0 || std::strcmp(argv[i], "--version") == 0) {
      const server::BuildInfo& b = server::GetBuildInfo();
      std::printf(
          "skald, version %s (Loki API %s, revision %s, branch %s)\n  build user: %s\n  build "
          "date: %s\n  compiler: %s\n",
          b.skald, b.version, b.revision, b.branch, b.build_user, b.build_date, b.go_version);
      return 0;
    }
  }
  auto config = server::LoadConfig(argc, argv);
  if (!config.ok()) {
    std::fprintf(stderr, "error: %s\n", config.status().message().c_str());
    return 1;
  }
  if (config->cli.verify_config) {
    // What start-up would refuse before opening anything: the object store's settings too.
    auto s3 = server::ObjectStoreS3Config(*config);
    if (!s3.ok()) {
      std::fprintf(stderr, "error: %s\n", s3.status().message().c_str());
      return 1;
    }
    std::fprintf(stderr, "config is valid\n");
    return 0;
  }
  log::Level level;
  if (log::ParseLevel(config->server.log_level, &level)) log::SetLevel(level);

  // Block the termination signals in every thread; main waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto app = server::App::Create(*config);
  if (!app.ok()) {
    log::Error("failed to initialise", {{"err", app.status().ToString()}});
    return 1;
  }
  Status st = (*app)->Start();
  if (!st.ok()) {
    log::Error("failed to start", {{"err", st.ToString()}});
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  log::Info("received signal, shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  st = (*app)->Shutdown();
  if (!st.ok()) {
    log::Error("shutdown flush failed", {{"err", st.ToString()}});
    return 1;
  }
  log::Info("Skald stopped");
  return 0;
}
