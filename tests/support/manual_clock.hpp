// A manual clock for the plugin's transport (pcapi::transport::Clock): time moves only when the
// test moves it, and every wait the transport asks for is recorded with its reason and delay.
// run() drives a delivery to its end without sleeping: whenever a wait is pending, time jumps to
// the earliest deadline, but only once no request is out (round_trip_begins/ends) and the
// delivery's thread has finished the handler that armed it: whatever one handler does (a pump
// filling every idle connection) happens at one instant, as on a real clock the few microseconds
// it takes would not reach the next deadline. Network round trips take no time at all on this
// clock, so the recorded schedule is the one the transport computed, with any number of
// connections: two requests out at once see the same instant whichever answer comes back first.
// Thread-safe: timers are armed on the delivery's thread, time moves on the test's.
#pragma once

#include "transport/clock.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace test_support {

class ManualClock final : public pcapi::transport::Clock {
public:
    using WaitReason = pcapi::transport::WaitReason;
    using Timer = pcapi::transport::Timer;

    struct Wait {
        time_point armed_at, deadline;
        WaitReason why;
        std::chrono::milliseconds delay() const {
            return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - armed_at);
        }
    };

    // Far from the epoch, as a steady clock is: the pacer subtracts from "now".
    static constexpr time_point kStart = time_point(std::chrono::hours(1000));

    time_point now() const override {
        std::lock_guard lock(mu_);
        return now_;
    }

    std::unique_ptr<Timer> make_timer(boost::asio::io_context &ioc) override {
        return std::make_unique<ManualTimer>(*this, ioc);
    }

    void round_trip_begins() override {
        std::lock_guard lock(mu_);
        ++round_trips_;
    }
    void round_trip_ends() override {
        std::lock_guard lock(mu_);
        --round_trips_;
        changed_.notify_all();
    }

    // Requests (and questions to the host) out now: while any is, time stands still.
    int round_trips_out() const {
        std::lock_guard lock(mu_);
        return round_trips_;
    }

    // Every wait asked for so far (fired, cancelled or pending), in order, optionally of one kind.
    std::vector<Wait> waits() const {
        std::lock_guard lock(mu_);
        return history_;
    }
    std::vector<Wait> waits(WaitReason why) const {
        std::vector<Wait> out;
        for (const Wait &w : waits())
            if (w.why == why) out.push_back(w);
        return out;
    }

    // Moves time forward to `t` and fires every wait due by then, earliest first.
    void advance_to(time_point t) {
        std::lock_guard lock(mu_);
        now_ = std::max(now_, t);
        std::stable_sort(pending_.begin(), pending_.end(),
                         [](const Pending &a, const Pending &b) { return a.deadline < b.deadline; });
        while (!pending_.empty() && pending_.front().deadline <= now_) {
            Pending p = std::move(pending_.front());
            pending_.erase(pending_.begin());
            boost::asio::post(*p.ioc, [h = std::move(p.handler)] { h(true); });
        }
    }

    // Calls start(done) and then, until `done` has been called, jumps to the earliest pending
    // deadline whenever the transport waits with no request out. False (and nothing more is
    // driven) when neither happens within `guard` of real time, or when the next deadline lies more than `limit` of
    // this clock's time after the start: a stuck or endless delivery fails its test instead of
    // hanging it.
    bool run(const std::function<void(std::function<void()> done)> &start,
             std::chrono::milliseconds guard = std::chrono::seconds(60),
             std::chrono::milliseconds limit = std::chrono::hours(24)) {
        const time_point end = now() + limit;
        auto finished = std::make_shared<bool>(false);  // `done` may come after a failed run()
        start([this, finished] {
            std::lock_guard lock(mu_);
            *finished = true;
            changed_.notify_all();
        });
        std::unique_lock lock(mu_);
        for (;;) {
            const auto waiting = [&] { return !pending_.empty() && round_trips_ == 0; };
            if (!changed_.wait_for(lock, guard, [&] { return *finished || waiting(); })) return false;
            if (*finished) return true;
            std::vector<boost::asio::io_context *> threads;
            for (const Pending &p : pending_)
                if (std::find(threads.begin(), threads.end(), p.ioc) == threads.end()) threads.push_back(p.ioc);
            lock.unlock();
            if (!finish_running_handlers(threads, guard)) return false;
            lock.lock();
            if (*finished || !waiting()) continue;  // the handlers since may have ended it or sent
            const time_point next =
                std::min_element(pending_.begin(), pending_.end(), [](const Pending &a, const Pending &b) {
                    return a.deadline < b.deadline;
                })->deadline;
            if (next > end) return false;
            lock.unlock();
            advance_to(next);
            lock.lock();
        }
    }

private:
    // Waits until each thread has run a no-op posted now, so the handler it was running (the one
    // that armed a wait) has returned. False when one does not within `guard` of real time.
    static bool finish_running_handlers(const std::vector<boost::asio::io_context *> &threads,
                                        std::chrono::milliseconds guard) {
        struct Probe {
            std::mutex mu;
            std::condition_variable ran;
            size_t left;
        };
        auto probe = std::make_shared<Probe>();
        probe->left = threads.size();
        for (boost::asio::io_context *ioc : threads)
            boost::asio::post(*ioc, [probe] {
                std::lock_guard lock(probe->mu);
                if (--probe->left == 0) probe->ran.notify_all();
            });
        std::unique_lock lock(probe->mu);
        return probe->ran.wait_for(lock, guard, [&] { return probe->left == 0; });
    }

    struct Pending {
        const Timer *owner;
        boost::asio::io_context *ioc;
        time_point deadline;
        std::function<void(bool)> handler;
    };

    class ManualTimer final : public Timer {
    public:
        ManualTimer(ManualClock &clock, boost::asio::io_context &ioc) : clock_(clock), ioc_(ioc) {}
        ~ManualTimer() override {
            std::lock_guard lock(clock_.mu_);
            clock_.drop(this, false);
        }
        void wait_until(time_point deadline, WaitReason why, std::function<void(bool)> handler) override {
            std::lock_guard lock(clock_.mu_);
            clock_.drop(this, true);
            clock_.history_.push_back({clock_.now_, deadline, why});
            clock_.pending_.push_back({this, &ioc_, deadline, std::move(handler)});
            clock_.changed_.notify_all();
        }
        void cancel() override {
            std::lock_guard lock(clock_.mu_);
            clock_.drop(this, true);
        }

    private:
        ManualClock &clock_;
        boost::asio::io_context &ioc_;
    };

    // Removes `owner`'s pending wait; its handler learns of the cancellation when `notify`.
    void drop(const Timer *owner, bool notify) {
        for (auto it = pending_.begin(); it != pending_.end(); ++it) {
            if (it->owner != owner) continue;
            if (notify) boost::asio::post(*it->ioc, [h = std::move(it->handler)] { h(false); });
            pending_.erase(it);
            return;
        }
    }

    mutable std::mutex mu_;
    std::condition_variable changed_;
    time_point now_ = kStart;
    int round_trips_ = 0;  // requests out: time stands still until each is answered
    std::vector<Pending> pending_;
    std::vector<Wait> history_;
};

}  // namespace test_support
