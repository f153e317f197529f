#include "skald_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "tests/testing/wait.h"

namespace skald::testing {

namespace {

std::string ReadFrom(const std::string& path, size_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(offset));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string LogField(const std::string& log, const std::string& msg, const std::string& key) {
  const std::string msg_field = "msg=\"" + msg + "\"";
  std::string out;
  // Only whole lines: the process may be writing the last one right now.
  std::istringstream lines(log.substr(0, log.rfind('\n') + 1));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(msg_field) == std::string::npos) continue;
    size_t pos = line.find(" " + key + "=");
    if (pos == std::string::npos) continue;
    pos += key.size() + 2;
    size_t end = line.find(' ', pos);
    out = line.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (out.size() >= 2 && out.front() == '"' && out.back() == '"') {
      out = out.substr(1, out.size() - 2);
    }
  }
  return out;
}

SkaldProcess::SkaldProcess(std::string data_dir, std::vector<std::string> extra_flags,
                           std::vector<std::string> wrapper)
    : data_dir_(std::move(data_dir)), flags_(std::move(extra_flags)), wrapper_(std::move(wrapper)) {
  log_path_ = data_dir_ + ".log";
}

SkaldProcess::~SkaldProcess() { Kill(); }

bool SkaldProcess::Start(int timeout_ms) {
  struct stat st {};
  run_log_offset_ = ::stat(log_path_.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
  port_ = 0;
  std::string binary = std::string(SKALD_BINARY_DIR) + "/skald";
  std::vector<std::string> args = {binary,
                                   "-server.http-listen-address=127.0.0.1",
                                   "-server.http-listen-port=0",
                                   "-server.grpc-listen-port=0",
                                   "-server.grpc-listen-address=127.0.0.1",
                                   "-common.path-prefix=" + data_dir_};
  args.insert(args.end(), flags_.begin(), flags_.end());
  args.insert(args.begin(), wrapper_.begin(), wrapper_.end());
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 2);
      dup2(fd, 1);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(args[0].c_str(), argv.data());
    _exit(127);
  }
  bool exited = false;
  auto started = [&] {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exited = true;
      return true;
    }
    std::string port = LogField(last_run_log(), "Skald started", "http_port");
    if (port.empty()) return false;
    port_ = std::stoi(port);
    return true;
  };
  if (!WaitFor(started, timeout_ms) || exited || port_ == 0) return false;
  return WaitFor(
      [&] {
        auto r = Call("GET", "/ready");
        return r.ok() && r->status == 200;
      },
      timeout_ms);
}

int SkaldProcess::Stop(int timeout_ms) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int code = -SIGKILL;
  bool done = WaitFor(
      [&] {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
        pid_ = -1;
        code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        return true;
      },
      timeout_ms);
  if (!done) Kill();
  return code;
}

void SkaldProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string SkaldProcess::log() const { return ReadFrom(log_path_, 0); }

std::string SkaldProcess::last_run_log() const { return ReadFrom(log_path_, run_log_offset_); }

StatusOr<http::HttpResponse> SkaldProcess::Call(std::string_view method, std::string_view target,
                                                const http::HeaderList& headers,
                                                std::string_view body) const {
  return http::Fetch("127.0.0.1", port_, method, target, headers, body);
}

}  // namespace skald::testing
