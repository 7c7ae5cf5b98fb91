// Waiting on a condition in tests: the one place that sleeps. Tests wait for what a process or
// server did (a line printed, a counter reached), never for a length of time; the timeout only
// turns a hang into a failure.
#pragma once

#include <chrono>
#include <thread>

namespace test_support {

// Polls `done` every `interval` until it returns true (true), or `timeout` passes (false).
template <class Pred>
bool eventually(Pred &&done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (done()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(interval);
    }
}

}  // namespace test_support
