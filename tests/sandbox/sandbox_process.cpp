#include "sandbox_process.hpp"

#include "../support/poll.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

namespace sandbox_test {

Sandbox::Sandbox(const std::string &exe, const std::string &static_token, std::vector<std::string> extra) {
    char tmpl[] = "/tmp/sandbox-test.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    ca_ = dir_ + "/ca.pem";
    std::vector<std::string> args = {exe, "--ca-out", ca_, "--static-token", static_token};
    args.insert(args.end(), extra.begin(), extra.end());

    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        std::vector<char *> argv;
        for (auto &a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    out_fd_ = fds[0];
    url_ = read_line(10000);
    port_ = port_of(url_);
    if (port_ == 0) throw std::runtime_error("pinterest-sandbox printed no URL (got '" + url_ + "')");
}

Sandbox::~Sandbox() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        int status = 0;
        const bool exited =
            test_support::eventually([&] { return ::waitpid(pid_, &status, WNOHANG) != 0; }, std::chrono::seconds(2));
        if (!exited) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

ClientOptions Sandbox::options() const {
    ClientOptions o;
    o.port = port_;
    o.ca_file = ca_;
    return o;
}

std::string Sandbox::read_line(int timeout_ms) {
    std::string line;
    char c;
    while (true) {
        pollfd p{out_fd_, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) break;
        if (::read(out_fd_, &c, 1) != 1 || c == '\n') break;
        line.push_back(c);
    }
    return line;
}

}  // namespace sandbox_test
