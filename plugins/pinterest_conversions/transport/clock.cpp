#include "transport/clock.hpp"

#include <boost/asio/steady_timer.hpp>

namespace pcapi::transport {

namespace {

class AsioTimer final : public Timer {
public:
    explicit AsioTimer(boost::asio::io_context &ioc) : timer_(ioc) {}

    void wait_until(time_point deadline, WaitReason, std::function<void(bool)> handler) override {
        timer_.expires_at(deadline);  // cancels a pending wait: its handler sees operation_aborted
        timer_.async_wait([h = std::move(handler)](boost::system::error_code ec) { h(!ec); });
    }

    void cancel() override { timer_.cancel(); }

private:
    boost::asio::steady_timer timer_;
};

class SteadyClock final : public Clock {
public:
    time_point now() const override { return std::chrono::steady_clock::now(); }
    std::unique_ptr<Timer> make_timer(boost::asio::io_context &ioc) override { return std::make_unique<AsioTimer>(ioc); }
};

}  // namespace

Clock &steady_clock() {
    static SteadyClock clock;
    return clock;
}

}  // namespace pcapi::transport
