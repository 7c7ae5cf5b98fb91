// synchost's log: levels, plain lines or JSON lines, to stderr (or a file). Thread-safe, since
// plugins log from their own threads. Callers never pass secrets or raw personal data.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace synchost {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

class Logger {
public:
    Logger() = default;
    // Throws CliError(kExitConfig) for an unknown level name.
    void configure(const std::string &level, bool json, const std::string &file);

    void log(LogLevel level, std::string_view source, std::string_view message);
    void debug(std::string_view m) { log(LogLevel::debug, "synchost", m); }
    void info(std::string_view m) { log(LogLevel::info, "synchost", m); }
    void warn(std::string_view m) { log(LogLevel::warn, "synchost", m); }
    void error(std::string_view m) { log(LogLevel::error, "synchost", m); }
    bool enabled(LogLevel l) const { return l >= level_; }

    // While a progress bar owns the terminal line, log lines first clear it.
    void set_line_owner(bool owned) { line_owned_ = owned; }

    ~Logger();

private:
    std::mutex mu_;
    LogLevel level_ = LogLevel::info;
    bool json_ = false;
    bool line_owned_ = false;
    FILE *out_ = stderr;
};

}  // namespace synchost
