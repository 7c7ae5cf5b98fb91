#include "runtime/progress.hpp"

#include <cstdio>
#include <string>
#include <unistd.h>

namespace synchost {

namespace {

std::string thousands(uint64_t n) {
    std::string s = std::to_string(n), out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (i && (s.size() - i) % 3 == 0) out.push_back(',');
        out.push_back(s[i]);
    }
    return out;
}

std::string clock_text(double seconds) {
    const auto s = static_cast<long>(seconds);
    char buf[32];
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

}  // namespace

Progress::Progress(Logger &log, bool quiet)
    : log_(log), quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()),
      last_(start_) {
    if (tty_ && !quiet_) log_.set_line_owner(true);
}

Progress::~Progress() { log_.set_line_owner(false); }

std::string Progress::line(const ProgressCounts &c) const {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(c.read) / elapsed : 0;
    std::string s;
    if (tty_ && total_ && *total_ > 0) {
        const double frac = std::min(1.0, static_cast<double>(c.read) / static_cast<double>(*total_));
        const int width = 24, filled = static_cast<int>(frac * width);
        s = "[" + std::string(filled, '#') + std::string(width - filled, '-') + "] ";
    }
    s += "read " + thousands(c.read) + " | sent " + thousands(c.sent) + " | delivered " + thousands(c.delivered) +
         " | rejected " + thousands(c.rejected);
    if (c.skipped) s += " | skipped " + thousands(c.skipped);
    if (c.retry) s += " | retry " + thousands(c.retry);
    if (c.errors) s += " | row errors " + thousands(c.errors);
    s += " | " + thousands(static_cast<uint64_t>(rate)) + " rows/s | " + clock_text(elapsed);
    if (total_ && rate > 0 && *total_ > c.read)
        s += " | ETA " + clock_text(static_cast<double>(*total_ - c.read) / rate);
    return s;
}

void Progress::update(const ProgressCounts &c, bool force) {
    if (quiet_) return;
    const auto now = std::chrono::steady_clock::now();
    if (tty_) {
        if (!force && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        std::fprintf(stderr, "\r\033[K%s", line(c).c_str());
        std::fflush(stderr);
    } else if (force || now - last_ >= plain_interval_) {
        last_ = now;
        log_.info(line(c));
    }
}

void Progress::finish(const ProgressCounts &c) {
    if (quiet_) return;
    if (tty_) {
        std::fprintf(stderr, "\r\033[K%s\n", line(c).c_str());
        std::fflush(stderr);
        log_.set_line_owner(false);
    } else {
        log_.info(line(c));
    }
}

}  // namespace synchost
