#pragma once
// dies(fn): runs fn in a forked child and tells whether it aborted (a TRIB_ASSERT fired). The child's
// stdout and stderr go to /dev/null so expected assertion messages do not clutter the test output.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

namespace tributary::test {

inline bool dies(const std::function<void()>& fn) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGABRT, SIG_DFL);  // doctest's crash handler would report the expected abort
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    fn();
    ::_exit(0);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return false;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

}  // namespace tributary::test
