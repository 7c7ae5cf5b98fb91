#include "runtime/logger.hpp"

#include "exit_codes.hpp"
#include "runtime/terminal_text.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <ctime>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace synchost {

namespace {

const char *name_of(LogLevel l) {
    switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    case LogLevel::off: return "off";
    }
    return "?";
}

std::string utc_now() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

}  // namespace

void Logger::configure(const std::string &level, bool json, const std::string &file) {
    std::lock_guard lock(mu_);
    bool found = false;
    for (LogLevel l : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error, LogLevel::off}) {
        if (level == name_of(l)) {
            level_ = l;
            found = true;
        }
    }
    if (!found) throw CliError(kExitConfig, "unknown log level \"" + level + "\" (debug, info, warn, error, off)");
    json_ = json;
    if (!file.empty()) {
        // 0600 whatever the umask: a log names the sync's keys and problems.
        const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        FILE *f = fd < 0 ? nullptr : ::fdopen(fd, "a");
        if (f == nullptr) {
            const std::string why = std::strerror(errno);
            if (fd >= 0) ::close(fd);
            throw CliError(kExitConfig, "cannot open log file " + file + ": " + why);
        }
        out_ = f;
    }
}

Logger::~Logger() {
    if (out_ != stderr) std::fclose(out_);
}

void Logger::log(LogLevel level, std::string_view source, std::string_view message) {
    if (level < level_) return;
    std::string line;
    if (json_) {
        boost::json::object o{{"time", utc_now()}, {"level", name_of(level)}, {"source", source}, {"message", message}};
        line = boost::json::serialize(o);
    } else {
        // One record per line: a plugin's or destination's text cannot forge another line or
        // send escape sequences to the terminal (JSON's escaping does the same for --log-json).
        line = utc_now() + " " + name_of(level) + " [" + terminal_safe(source) + "] " + terminal_safe(message);
    }
    std::lock_guard lock(mu_);
    if (line_owned_ && out_ == stderr) std::fputs("\r\033[K", out_);
    std::fputs(line.c_str(), out_);
    std::fputc('\n', out_);
    std::fflush(out_);
}

}  // namespace synchost
