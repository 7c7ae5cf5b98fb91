// A running pinterest-sandbox child process for tests: started with a CA file in a fresh temp
// directory, its URL read from the first stdout line; killed and reaped in the destructor (and
// with PR_SET_PDEATHSIG if the test binary dies), so a failed assertion never leaves it behind.
#pragma once

#include "test_client.hpp"

#include <memory>
#include <string>
#include <vector>

namespace sandbox_test {

class Sandbox {
public:
    // `exe` is the pinterest-sandbox binary; `args` are added after --ca-out and --static-token.
    Sandbox(const std::string &exe, const std::string &static_token, std::vector<std::string> args = {});
    ~Sandbox();
    Sandbox(const Sandbox &) = delete;
    Sandbox &operator=(const Sandbox &) = delete;

    ClientOptions options() const;
    std::unique_ptr<Client> client() const { return std::make_unique<Client>(options()); }
    const std::string &url() const { return url_; }
    const std::string &dir() const { return dir_; }
    const std::string &ca_file() const { return ca_; }
    int pid() const { return pid_; }

private:
    std::string read_line(int timeout_ms);

    int pid_ = -1;
    int out_fd_ = -1;
    std::string dir_, ca_, url_;
    unsigned short port_ = 0;
};

}  // namespace sandbox_test
