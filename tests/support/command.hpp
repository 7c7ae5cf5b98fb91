// Runs a program as a child process with extra environment variables, capturing its exit code,
// stdout and stderr (for end-to-end tests of command-line tools).
#pragma once

#include "poll.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace test_support {

struct CommandResult {
    int exit_code = -1;  // -1: killed by a signal
    std::string out, err;
};

class Command {
public:
    // Starts `args` (args[0] is the program path) in `cwd` with `env` added to the environment.
    Command(std::vector<std::string> args, const std::string &cwd,
            const std::vector<std::pair<std::string, std::string>> &env = {}) {
        char tmpl[] = "/tmp/cmd-test.XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
        dir_ = tmpl;
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(127);
            if (::chdir(cwd.c_str()) != 0) ::_exit(126);
            int out = ::open((dir_ + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            int err = ::open((dir_ + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            int in = ::open("/dev/null", O_RDONLY);
            ::dup2(in, STDIN_FILENO);
            ::dup2(out, STDOUT_FILENO);
            ::dup2(err, STDERR_FILENO);
            for (const auto &[k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
            std::vector<char *> argv;
            for (auto &a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
    }
    ~Command() {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        std::remove((dir_ + "/out").c_str());
        std::remove((dir_ + "/err").c_str());
        ::rmdir(dir_.c_str());
    }

    void signal(int sig) { ::kill(pid_, sig); }

    // Waits until the child's stderr (or stdout) contains `needle` (true), or `timeout` passes
    // (false). Polls: the child writes to files.
    bool wait_for_stderr(const std::string &needle, std::chrono::milliseconds timeout) {
        return wait_for("/err", needle, timeout);
    }
    bool wait_for_stdout(const std::string &needle, std::chrono::milliseconds timeout) {
        return wait_for("/out", needle, timeout);
    }
    // What the child printed so far.
    std::string stdout_text() const { return slurp(dir_ + "/out"); }
    std::string stderr_text() const { return slurp(dir_ + "/err"); }
    pid_t pid() const { return pid_; }

    CommandResult wait() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        return reaped(status);
    }

    // Waits up to `timeout` for the child to exit; nullopt (the child still running) when it did
    // not. A guard against hangs, not a speed check.
    std::optional<CommandResult> wait_for_exit(std::chrono::milliseconds timeout) {
        int status = 0;
        if (!eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout)) return std::nullopt;
        return reaped(status);
    }

    // Runs to completion.
    static CommandResult run(std::vector<std::string> args, const std::string &cwd,
                             const std::vector<std::pair<std::string, std::string>> &env = {}) {
        Command c(std::move(args), cwd, env);
        return c.wait();
    }

private:
    CommandResult reaped(int status) {
        reaped_ = true;
        CommandResult r;
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        r.out = slurp(dir_ + "/out");
        r.err = slurp(dir_ + "/err");
        return r;
    }
    bool wait_for(const char *file, const std::string &needle, std::chrono::milliseconds timeout) {
        return eventually([&] { return slurp(dir_ + file).find(needle) != std::string::npos; }, timeout);
    }
    static std::string slurp(const std::string &path) {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    pid_t pid_ = -1;
    bool reaped_ = false;
    std::string dir_;
};

}  // namespace test_support
