// Run progress for people: a one-line bar on a terminal (rows read, sent, rejected, rate,
// elapsed, ETA when the total is known), a plain line every few seconds otherwise, nothing with
// --quiet. Always on stderr, so stdout stays for --json and --dry-run output.
#pragma once

#include "runtime/logger.hpp"

#include <chrono>
#include <cstdint>
#include <optional>

namespace synchost {

struct ProgressCounts {
    uint64_t read = 0, skipped = 0, sent = 0, delivered = 0, rejected = 0, retry = 0, errors = 0;
};

class Progress {
public:
    Progress(Logger &log, bool quiet);
    ~Progress();

    void set_total(std::optional<uint64_t> total) { total_ = total; }
    // Cheap to call per batch; redraws at most ten times a second.
    void update(const ProgressCounts &c, bool force = false);
    void finish(const ProgressCounts &c);

private:
    std::string line(const ProgressCounts &c) const;

    Logger &log_;
    bool quiet_, tty_;
    std::optional<uint64_t> total_;
    std::chrono::steady_clock::time_point start_, last_;
    std::chrono::seconds plain_interval_{10};
};

}  // namespace synchost
