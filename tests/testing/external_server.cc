#include "tests/testing/external_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include "tools/http/http_client.h"

namespace skald::testing {
namespace {

// The executable `binary` names: itself when it has a slash, else the first match on PATH;
// "" when there is none. Resolved in the parent so that the child only calls execv.
std::string Resolve(const std::string& binary) {
  if (binary.empty()) return "";
  if (binary.find('/') != std::string::npos) {
    return ::access(binary.c_str(), X_OK) == 0 ? binary : "";
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (;;) {
    const size_t end = dirs.find(':');
    std::string_view dir = dirs.substr(0, end);
    std::string candidate(dir.empty() ? std::string_view(".") : dir);
    candidate.push_back('/');
    candidate.append(binary);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (end == std::string_view::npos) return "";
    dirs.remove_prefix(end + 1);
  }
}

std::string Tail(const std::string& s, size_t n) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

}  // namespace

ExternalServer::~ExternalServer() { Stop(); }

bool ExternalServer::Available(const std::string& binary) { return !Resolve(binary).empty(); }

int ExternalServer::FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

Status ExternalServer::Start(std::vector<std::string> argv, int port, std::string ready_path,
                             std::string log_path, int timeout_ms) {
  if (pid_ > 0) return Status::AlreadyExists("server already started");
  if (argv.empty()) return Status::InvalidArgument("empty argv");
  const std::string exe = Resolve(argv[0]);
  if (exe.empty()) {
    return Status::NotFound(argv[0] + " not found on PATH (scripts/install-deps.sh installs it)");
  }
  port_ = port;
  log_path_ = std::move(log_path);
  int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Status::IOError("open " + log_path_ + ": " + std::strerror(errno));
  }
  // Everything the child needs is built before fork: between fork and exec a child of a
  // multi-threaded process may only call async-signal-safe functions (no malloc).
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(log_fd);
    return Status::Internal(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // Killed with the test process, even when that dies without running destructors.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent died before prctl took effect
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execv(exe.c_str(), args.data());
    static const char kMsg[] = "execv failed\n";
    (void)!::write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    ::_exit(127);
  }
  ::close(log_fd);
  pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string last = "no answer yet";
  for (;;) {
    int wstatus = 0;
    pid_t r = ::waitpid(pid_, &wstatus, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      std::string how = WIFEXITED(wstatus)
                            ? "exited with status " + std::to_string(WEXITSTATUS(wstatus))
                            : "killed by signal " + std::to_string(WTERMSIG(wstatus));
      return Status::Unavailable(argv[0] + " " + how + " before it was ready; log tail:\n" +
                                 Tail(log(), 4000));
    }
    http::HttpClient client("127.0.0.1", port_, 1000);
    http::HttpResponse resp;
    Status st = client.Get(ready_path, {{"Connection", "close"}}, &resp);
    if (st.ok() && resp.status == 200) return Status::OK();
    last = st.ok() ? "HTTP " + std::to_string(resp.status) : st.ToString();
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Stop();
  return Status::DeadlineExceeded(argv[0] + " not ready on port " + std::to_string(port_) +
                                  ready_path + " after " + std::to_string(timeout_ms) +
                                  " ms (last: " + last + "); log tail:\n" + Tail(log(), 4000));
}

void ExternalServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string ExternalServer::log() const {
  if (log_path_.empty()) return "";
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace skald::testing
