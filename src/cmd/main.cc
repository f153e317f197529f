// skald: the single binary. With no flags it runs every role in one process
// (HTTP on :3100, data under ./data). SIGTERM/SIGINT flush all in-memory data
// to the store and exit 0.
#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "core/logging.h"
#include "server/app.h"
#include "server/build_info.h"
#include "server/config.h"

int main(int argc, char** argv) {
  using namespace skald;
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
