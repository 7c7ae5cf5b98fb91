// The I/O threads that every HTTPS delivery of the process shares. One plugin library serves
// any number of instances (an engine runs hundreds of tenants in one worker), so the thread count
// follows the cores, not the instances: a fixed set of threads, each running its own io_context.
// A delivery is placed on one of them for its whole life, so its handlers never run concurrently
// with each other and need no strand; different deliveries run in parallel on different threads.
//
// The pool starts with the first delivery and stops (joining its threads) when the last one is
// gone, so an unloaded library leaves no thread behind.
//
// Calls into a host that may block (a token refresh is a network round trip of the host's own)
// must not run on an I/O thread, where they would stall every other delivery placed on it. A
// delivery asks for a batch's token on the thread of the host's own call; the refreshes it needs
// in the middle of a delivery (after a 401) go to host_calls(), as many more threads
// ("pcapi-host-N"), started on first use.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>

namespace pcapi::transport {

class IoPool {
public:
    // The process's pool, started on first use. Thread-safe.
    static std::shared_ptr<IoPool> acquire();

    // How many threads a pool has: the core count, at least 1 and at most 8 (a delivery's work
    // per event is small; more threads than cores only add switches).
    static size_t default_threads();

    explicit IoPool(size_t threads);
    ~IoPool();  // must not run on one of the pool's own threads
    IoPool(const IoPool &) = delete;
    IoPool &operator=(const IoPool &) = delete;

    // The io_context with the fewest deliveries placed on it; give it back with release(). Thread-safe.
    boost::asio::io_context &place();
    void release(boost::asio::io_context &ioc);

    // Where to run a host service call that may block; its result is posted back to the caller's
    // own io_context. Thread-safe.
    boost::asio::io_context &host_calls();

    size_t threads() const;
    // Whether the calling thread is one of this pool's, its host-call threads included (a delivery
    // must not wait for itself there).
    bool on_pool_thread() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pcapi::transport
