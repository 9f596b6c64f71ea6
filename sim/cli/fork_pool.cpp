#include "sim/cli/fork_pool.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <stdexcept>

namespace autoscale {

namespace {
struct Child {
  pid_t pid;
  int fd;
  size_t task;
  std::string buf;
  std::chrono::steady_clock::time_point t0;
};

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n <= 0) _exit(3);
    done += static_cast<size_t>(n);
  }
}
}  // namespace

std::vector<ForkResult> run_forked(size_t tasks, int jobs, const std::function<std::string(size_t)>& task,
                                   const std::function<void(size_t, size_t)>& progress) {
  std::vector<ForkResult> out(tasks);
  std::map<int, Child> running;  // by pipe fd
  size_t next = 0, done = 0;
  if (jobs < 1) jobs = 1;
  while (done < tasks) {
    while (next < tasks && static_cast<int>(running.size()) < jobs) {
      int fd[2];
      if (pipe(fd) != 0) throw std::runtime_error("pipe failed");
      pid_t pid = fork();
      if (pid < 0) throw std::runtime_error("fork failed");
      if (pid == 0) {
        close(fd[0]);
        std::string text;
        char status = 'o';
        try {
          text = task(next);
        } catch (const std::exception& e) {
          text = e.what();
          status = 'e';
        }
        write_all(fd[1], std::string(1, status) + text);
        close(fd[1]);
        _exit(0);
      }
      close(fd[1]);
      running[fd[0]] = Child{pid, fd[0], next, "", std::chrono::steady_clock::now()};
      ++next;
    }
    std::vector<pollfd> fds;
    for (const auto& [fd, c] : running) fds.push_back({fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("poll failed");
    }
    for (const pollfd& p : fds) {
      if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Child& c = running.at(p.fd);
      char buf[65536];
      ssize_t n = read(p.fd, buf, sizeof buf);
      if (n > 0) {
        c.buf.append(buf, static_cast<size_t>(n));
        continue;
      }
      // End of the child's output.
      close(p.fd);
      int status = 0;
      waitpid(c.pid, &status, 0);
      ForkResult& r = out[c.task];
      r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - c.t0).count();
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || c.buf.empty()) {
        r.ok = false;
        r.text = "the simulation's process died" +
                 (WIFSIGNALED(status) ? std::string(" (signal ") + strsignal(WTERMSIG(status)) + ")" : "");
      } else {
        r.ok = c.buf[0] == 'o';
        r.text = c.buf.substr(1);
      }
      running.erase(p.fd);
      ++done;
      if (progress) progress(done, tasks);
    }
  }
  return out;
}

}  // namespace autoscale
