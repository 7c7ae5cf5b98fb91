// synchost's exit codes (documented in README "Exit codes") and the error type that carries one.
#pragma once

#include <stdexcept>
#include <string>

namespace synchost {

enum ExitCode : int {
    kExitOk = 0,
    kExitRejectedRows = 1,  // the run succeeded, but some rows were rejected (see `synchost status`)
    kExitConfig = 2,        // usage, sync definition, mapping, plugin config or unsupported mode
    kExitAuth = 3,          // authentication or permission: reconnect or grant access
    kExitTransient = 4,     // network, rate limit or server trouble: rows are kept for the next run
    kExitInternal = 5,      // a bug in synchost or the plugin
    kExitInterrupted = 130  // stopped by Ctrl-C / SIGTERM after checkpointing
};

// An error to report in one line and exit with `code`. Messages never contain secrets.
class CliError : public std::runtime_error {
public:
    CliError(int code, const std::string &message) : std::runtime_error(message), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

}  // namespace synchost
