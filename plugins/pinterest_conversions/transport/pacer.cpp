#include "transport/pacer.hpp"

#include <algorithm>

namespace pcapi::transport {

Pacer::Pacer(double calls_per_minute) : calls_per_minute_(std::max(1.0, calls_per_minute)) {}

Pacer::clock::time_point Pacer::reserve(clock::time_point now) {
    const auto interval = std::chrono::duration_cast<clock::duration>(
        std::chrono::duration<double>(60.0 / (calls_per_minute_ * factor_)));
    // Idle time banks a few calls: enough to catch up after a short stall (the host preparing the
    // next batch) without ever bursting past the budget's own granularity (see bank()).
    const clock::time_point start = std::max(now - (bank() - 1) * interval, next_);
    next_ = start + interval;
    return std::max(start, now);
}

void Pacer::on_rate_limited() { factor_ = std::max(1.0 / 16, factor_ / 2); }

void Pacer::on_success() { factor_ = std::min(1.0, factor_ + 0.02); }

}  // namespace pcapi::transport
