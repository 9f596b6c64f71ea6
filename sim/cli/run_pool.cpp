#include "sim/cli/run_pool.hpp"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "controllers/base/error.hpp"
#include "results/hdf5_store.hpp"
#include "sim/engine/simulation.hpp"

namespace autoscale {

namespace {

// Progress of parallel children, shared through an anonymous mapping.
struct SharedProgress {
  std::atomic<double>* slots = nullptr;
  size_t n = 0;
  explicit SharedProgress(size_t count) : n(count) {
    void* p = mmap(nullptr, sizeof(std::atomic<double>) * std::max<size_t>(count, 1), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    slots = static_cast<std::atomic<double>*>(p);
    for (size_t i = 0; i < n; ++i) new (&slots[i]) std::atomic<double>(0.0);
  }
  ~SharedProgress() { munmap(slots, sizeof(std::atomic<double>) * std::max<size_t>(n, 1)); }
};

void draw_progress(const std::string& title, const SharedProgress& p, size_t done, double elapsed_s) {
  double sum = 0;
  for (size_t i = 0; i < p.n; ++i) sum += p.slots[i].load();
  double f = sum / static_cast<double>(p.n);
  int width = 30, filled = static_cast<int>(f * width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(static_cast<size_t>(width), '.');
  char eta[48] = "";
  if (p.n > 1 && f > 0.02) std::snprintf(eta, sizeof eta, ", ETA %.0f s", elapsed_s * (1 - f) / f);
  std::fprintf(stderr, "\r%s [%s] %5.1f%%  %zu/%zu run%s  %.0f s%s   ", title.c_str(), bar.c_str(), 100 * f,
               done, p.n, p.n == 1 ? "" : "s", elapsed_s, eta);
  std::fflush(stderr);
}

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) {
  g_interrupted = 1;
}

}  // namespace

ScratchDir::ScratchDir(const std::string& out, const std::string& tag) {
  namespace fs = std::filesystem;
  if (fs::is_directory(out))
    throw InputError("command line", 0, "--out", "'" + out + "' is a directory; expected a file name");
  path_ = (fs::path(out).has_parent_path() ? fs::path(out).parent_path() : fs::path("."))
              .append("." + fs::path(out).filename().string() + "." + tag + "." + std::to_string(getpid()))
              .string();
  std::error_code ec;
  fs::create_directories(path_, ec);
  if (ec)
    throw InputError(
        "command line", 0, "--out",
        "cannot write next to '" + out + "': " + ec.message() + " (expected a writable directory)");
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int default_jobs(int requested) {
  return requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int run_in_children(const std::vector<PoolJob>& jobs, int parallel, bool show_progress,
                    const std::string& title) {
  SharedProgress progress(jobs.size());
  std::vector<pid_t> pids(jobs.size(), -1);
  size_t next = 0, running = 0, done = 0;
  int worst = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto last_draw = t0;
  std::fflush(stdout);
  std::fflush(stderr);
  // Ctrl-C or a kill: stop the children and leave nothing behind (the caller removes their files).
  g_interrupted = 0;
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  struct Restore {
    struct sigaction *i, *t;
    ~Restore() {
      sigaction(SIGINT, i, nullptr);
      sigaction(SIGTERM, t, nullptr);
    }
  } restore{&old_int, &old_term};
  auto stop_children = [&] {
    for (pid_t& p : pids)
      if (p > 0) {
        kill(p, SIGTERM);
        waitpid(p, nullptr, 0);
        p = -1;
      }
  };
  while (done < jobs.size()) {
    while (running < static_cast<size_t>(parallel) && next < jobs.size() && worst == 0) {
      size_t i = next++;
      pid_t pid = fork();
      if (pid < 0) throw std::runtime_error("fork failed");
      if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int code = 0;
        try {
          SimulationOptions so;
          so.file = jobs[i].scenario_file;
          so.progress = [&progress, i](double f) { progress.slots[i].store(f); };
          RunResult r = run_simulation(*jobs[i].run, so);
          write_run_file(jobs[i].out, r);
          progress.slots[i].store(1.0);
        } catch (const InputError& e) {
          std::fprintf(stderr, "%serror: %s\n", show_progress ? "\n" : "", e.what());
          code = 2;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "%serror: run '%s': %s\n", show_progress ? "\n" : "", jobs[i].label.c_str(),
                       e.what());
          code = 3;
        }
        std::fflush(stderr);
        _exit(code);
      }
      pids[i] = pid;
      ++running;
    }
    if (running == 0) break;
    int status = 0;
    pid_t pid = waitpid(-1, &status, show_progress ? WNOHANG : 0);
    if (g_interrupted) {
      stop_children();
      std::fprintf(stderr, "\ninterrupted: no result written\n");
      return 130;
    }
    if (pid > 0) {
      --running;
      ++done;
      for (pid_t& p : pids)
        if (p == pid) p = -1;
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : 3;
      if (!WIFEXITED(status))
        std::fprintf(stderr, "error: a run's process ended abnormally (signal %d)\n", WTERMSIG(status));
      if (code != 0 && (worst == 0 || code == 2)) worst = code;
      if (worst != 0) {  // one run failed: the result could not be complete, stop the others
        stop_children();
        break;
      }
    } else if (show_progress) {
      auto now = std::chrono::steady_clock::now();
      if (std::chrono::duration<double>(now - t0).count() > 1.0 &&
          std::chrono::duration<double>(now - last_draw).count() > 0.2) {
        draw_progress(title, progress, done, std::chrono::duration<double>(now - t0).count());
        last_draw = now;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (show_progress && std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > 1.0) {
    draw_progress(title, progress, done,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    std::fprintf(stderr, "\n");
  }
  return worst;
}

}  // namespace autoscale
