#include "transport/io_pool.hpp"

#include <boost/asio/executor_work_guard.hpp>

#include <pthread.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pcapi::transport {

namespace net = boost::asio;

struct IoPool::Impl {
    struct Lane {
        net::io_context ioc{1};  // one thread runs it: Asio may skip its locking
        std::optional<net::executor_work_guard<net::io_context::executor_type>> work{ioc.get_executor()};
        std::thread thread;
        size_t placed = 0;  // deliveries living on this lane; guarded by mu
    };
    std::vector<std::unique_ptr<Lane>> lanes;
    // host_calls(): one io_context run by as many threads as there are lanes, started on first use.
    std::optional<net::io_context> host_ioc;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> host_work;
    std::vector<std::thread> host_threads;
    mutable std::mutex mu;
};

std::shared_ptr<IoPool> IoPool::acquire() {
    // The pool lives while some delivery holds it; the next delivery after that starts a new one.
    static std::mutex mu;
    static std::weak_ptr<IoPool> current;
    std::lock_guard lock(mu);
    if (auto pool = current.lock()) return pool;
    auto pool = std::make_shared<IoPool>(default_threads());
    current = pool;
    return pool;
}

size_t IoPool::default_threads() {
    return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
}

IoPool::IoPool(size_t threads) : impl_(std::make_unique<Impl>()) {
    for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
        auto &lane = *impl_->lanes.emplace_back(std::make_unique<Impl::Lane>());
        lane.thread = std::thread([&lane] { lane.ioc.run(); });
        // Named so that `top -H`, a debugger and the tests see whose threads these are; named here,
        // not by the thread itself, so the name is there as soon as the pool is.
        pthread_setname_np(lane.thread.native_handle(), ("pcapi-io-" + std::to_string(i)).c_str());
    }
}

IoPool::~IoPool() {
    // Every delivery has drained its own handlers before letting go, so only the work guards keep
    // the loops running.
    for (auto &lane : impl_->lanes) lane->work.reset();
    impl_->host_work.reset();
    for (auto &lane : impl_->lanes)
        if (lane->thread.joinable()) lane->thread.join();
    for (auto &t : impl_->host_threads) t.join();
}

net::io_context &IoPool::host_calls() {
    std::lock_guard lock(impl_->mu);
    if (!impl_->host_ioc) {
        auto &ioc = impl_->host_ioc.emplace(static_cast<int>(impl_->lanes.size()));
        impl_->host_work.emplace(ioc.get_executor());
        for (size_t i = 0; i < impl_->lanes.size(); ++i) {
            auto &t = impl_->host_threads.emplace_back([&ioc] { ioc.run(); });
            pthread_setname_np(t.native_handle(), ("pcapi-host-" + std::to_string(i)).c_str());
        }
    }
    return *impl_->host_ioc;
}

net::io_context &IoPool::place() {
    std::lock_guard lock(impl_->mu);
    auto &lane = *std::min_element(impl_->lanes.begin(), impl_->lanes.end(),
                                   [](const auto &a, const auto &b) { return a->placed < b->placed; });
    ++lane->placed;
    return lane->ioc;
}

void IoPool::release(net::io_context &ioc) {
    std::lock_guard lock(impl_->mu);
    for (auto &lane : impl_->lanes)
        if (&lane->ioc == &ioc && lane->placed > 0) --lane->placed;
}

size_t IoPool::threads() const {
    return impl_->lanes.size();
}

bool IoPool::on_pool_thread() const {
    const auto me = std::this_thread::get_id();
    std::lock_guard lock(impl_->mu);  // host_calls() may be starting its threads
    return std::any_of(impl_->lanes.begin(), impl_->lanes.end(),
                       [me](const auto &lane) { return lane->thread.get_id() == me; }) ||
           std::any_of(impl_->host_threads.begin(), impl_->host_threads.end(),
                       [me](const std::thread &t) { return t.get_id() == me; });
}

}  // namespace pcapi::transport
