#include "transport/https_delivery.hpp"

#include "net/https_client.hpp"
#include "transport/endpoint.hpp"
#include "transport/host_services.hpp"
#include "transport/io_pool.hpp"
#include "transport/pacer.hpp"
#include "transport/response.hpp"
#include "transport/retry_policy.hpp"

#include <syncplugin/syncplugin.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <future>
#include <list>
#include <map>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace pcapi {

using namespace transport;
using namespace spnet;
namespace net = boost::asio;
using time_point = Clock::time_point;

namespace {

// One started delivery: its payloads, where the outcomes go, and how many jobs are still open.
struct Batch {
    const std::vector<Payload> *payloads = nullptr;
    DeliveryReport *report = nullptr;
    std::function<void()> done;
    size_t open_jobs = 0;
};

// An ad account this delivery sends to: the configured one, and each one rows are routed to (the
// ad_account_id field, Payload::account). Each has its own request target, its own pace on its
// own budget, and its own refusal: a routed account that Pinterest refuses (403, unknown account)
// has its events rejected while the other accounts' events go on.
struct Account {
    std::string id, target;
    Pacer pacer;
    bool routed = false;  // chosen by rows, not the configured account
    bool pacing_wait = false;  // a connection waits on this account's pacer (one at most, see next_job)
    // Its jobs taken from the queue and not ended: in flight, waiting on the pacer, or backing off
    // (which holds no connection; see retry_later).
    size_t in_use = 0;
    sp_error_category refused = SP_ERR_NONE;
    // Refused before any request of this delivery was accepted: the refusal may be the token's (a
    // scope it lacks refuses every account alike) rather than the account's, so its jobs wait
    // (parked) for a verdict: another account's accepted request makes it `refused`.
    sp_error_category doubted = SP_ERR_NONE;
    std::string refusal;
    bool held() const { return refused != SP_ERR_NONE || doubted != SP_ERR_NONE; }
    Account(std::string account, std::string request_target, double calls_per_minute, bool by_rows)
        : id(std::move(account)), target(std::move(request_target)), pacer(calls_per_minute), routed(by_rows) {}
};

// One request's worth of events: items [first, last) of payload `p` of `batch`. A 400 splits a
// job in two so that one bad event cannot keep the good ones from landing. Every job ends exactly
// once, in end_job().
struct Job {
    Batch *batch = nullptr;
    Account *account = nullptr;
    size_t p = 0, first = 0, last = 0;
    std::string owned_body;  // for a split job; otherwise the payload's body is used
    std::string_view body;
    unsigned attempt = 0;
    bool refreshed = false;         // the token was refreshed once for this job after a 401
    std::unique_ptr<Timer> backoff;  // its wait before a retry, made at its first retry
    uint64_t token_generation = 0;  // which token the last attempt carried
    time_point started{};
    size_t size() const { return last - first; }
};

// All network work runs on one thread of the process's shared I/O pool (the io_context this
// delivery is placed on); start() and close() hand work to it. Everything below the public
// functions runs on that thread only. What is this delivery's alone: its connections, pacing,
// retry state, token and outcomes; other deliveries on the same thread share none of them.
class HttpsDelivery final : public Delivery {
public:
    HttpsDelivery(const PluginConfig &c, bool test_events, const sp_host *host, const DeliveryOptions &options)
        : host_(host),
          clock_(options.clock ? *options.clock : steady_clock()),
          pool_(IoPool::acquire()),
          ioc_(pool_->place()),
          placement_(pool_.get(), &ioc_),
          client_(std::in_place, ioc_, client_options(c), static_cast<size_t>(c.max_in_flight)),
          rng_(options.jitter_seed ? *options.jitter_seed : std::random_device{}()),
          test_events_(test_events),
          calls_per_minute_(c.calls_per_minute),
          account_budgets_(c.account_calls_per_minute),
          cancel_poll_(std::in_place, ioc_) {
        policy_.initial = milliseconds(c.retry_initial_backoff_ms);
        policy_.max_backoff = milliseconds(c.retry_max_backoff_ms);
        policy_.max_elapsed = milliseconds(c.retry_max_elapsed_seconds * 1000);
        configured_ = &accounts_
                           .try_emplace(c.ad_account_id, c.ad_account_id, target_for(c.ad_account_id),
                                        budget_of(c.ad_account_id), false)
                           .first->second;
        for (size_t i = 0; i < client_->slots(); ++i) {
            slot_timers_.push_back(clock_.make_timer(ioc_));
            idle_.push_back(i);
        }
    }

    ~HttpsDelivery() override {
        try {
            close();
        } catch (...) {  // a destructor must not throw; close() fails only if it cannot post or wait
        }
    }

    // Asks the host for the token here, on the thread of the host's own call (write_batch or
    // submit): the host may refresh it ahead of its expiry, over the network, and a wait there holds
    // up this tenant alone, never a thread the plugin shares among tenants.
    void start(const std::vector<Payload> &payloads, DeliveryReport &report, std::function<void()> done) override {
        report.reset(payloads);
        if (payloads.empty() || closed_) {
            done();
            return;
        }
        const uint64_t refreshes_before = refreshes_answered_.load();
        auto token = std::make_shared<HostServices::Token>(token_on_this_thread());
        net::post(ioc_, [this, &payloads, &report, done = std::move(done), token, refreshes_before]() mutable {
            Batch &b = batches_.emplace_back();
            b.payloads = &payloads;
            b.report = &report;
            b.done = std::move(done);
            begin(b, std::move(token), refreshes_before);
        });
    }

    // Waits until every handler of this delivery has run: the I/O thread is shared, so nothing of
    // this delivery may be left in its queue when the delivery is destroyed. Must not be called on
    // a pool thread (from inside a host service callback), which would wait for itself.
    void close() override {
        if (closed_.exchange(true)) return;
        // From a pool thread it would wait for itself forever; from inside the token service that
        // start() called, it would pull the delivery from under that call. Say so, loudly.
        if (pool_->on_pool_thread() || asking_host_on_.load() == std::this_thread::get_id()) {
            std::fputs("pinterest_conversions: an instance was closed or destroyed from inside a host service "
                       "callback, on one of the plugin's own threads; syncplugin.h forbids it\n",
                       stderr);
            std::abort();
        }
        std::promise<void> quiet;
        net::post(ioc_, [this, &quiet] {
            stop_everything();
            cancel_poll_->cancel();
            await_quiet(quiet, 0);
        });
        quiet.get_future().wait();
        cleanse(token_);
        cleanse(authorization_);
    }

private:
    static ClientOptions client_options(const PluginConfig &c) {
        Endpoint e = parse_endpoint(c.api_base_url);
        ClientOptions o;
        o.host = e.host;
        o.port = e.port;
        o.ca_file = c.ca_file;
        o.step_timeout = milliseconds(c.request_timeout_seconds * 1000);
        o.user_agent = "syncplugin-pinterest-conversions/0.1";
        o.close_idle_on_time = true;  // the shared I/O threads run until the library unloads
        return o;
    }

    // Until the aborted handlers of the client, the timers and the cancellation poll have all run,
    // checking again after the handlers queued so far (a post runs after them) and then every
    // millisecond (a name resolution finishes on Asio's resolver thread). Then the I/O objects
    // are destroyed here, on their own thread.
    void await_quiet(std::promise<void> &quiet, unsigned attempt) {
        if (client_->outstanding() == 0 && waiting_handlers_.load() == 0) {
            client_.reset();
            slot_timers_.clear();
            for (Job &j : jobs_) j.backoff.reset();  // none is left by now; timers die on their thread
            cancel_poll_.reset();
            quiet.set_value();
            return;
        }
        if (attempt == 0) return net::post(ioc_, [this, &quiet] { await_quiet(quiet, 1); });
        auto retry = std::make_shared<net::steady_timer>(ioc_, std::chrono::milliseconds(1));
        retry->async_wait(
            [this, retry, &quiet, attempt](boost::system::error_code) { await_quiet(quiet, attempt + 1); });
    }

    // A handler given to a timer holds one of these: close() waits until none is left.
    struct WaitTicket {
        std::atomic<size_t> *count;
        explicit WaitTicket(std::atomic<size_t> &c) : count(&c) { count->fetch_add(1); }
        ~WaitTicket() { count->fetch_sub(1); }
        WaitTicket(const WaitTicket &) = delete;
        WaitTicket &operator=(const WaitTicket &) = delete;
    };
    std::shared_ptr<WaitTicket> wait_ticket() { return std::make_shared<WaitTicket>(waiting_handlers_); }

    // ---- batches and jobs ----------------------------------------------------------------------

    // `token` is the host's answer that start() asked for. A forced refresh asked or answered
    // since then may have brought a newer token: the answer is then dropped and the token asked
    // again behind that refresh, in order (with_token), so that an older one never returns.
    void begin(Batch &b, std::shared_ptr<HostServices::Token> token, uint64_t refreshes_before) {
        if (token && (stopping_ || !token_waits_.empty() || refreshes_answered_.load() != refreshes_before)) {
            cleanse(token->value);
            token.reset();
        }
        if (stopping_) return finish_batch(b, stopped_reason());
        auto go_on = [this, &b](bool ok) {
            if (!ok) stopping_ = true;
            if (!stopping_) return queue_jobs(b);
            finish_batch(b, stopped_reason());
            pump();  // the stop ends what earlier batches have waiting (parked jobs hold no timer)
        };
        if (!token) return with_token(false, std::move(go_on));
        go_on(take_token(false, *token));  // which cleanses the answer
    }

    HostServices::Token token_on_this_thread() {
        asking_host_on_.store(std::this_thread::get_id());
        HostServices::Token t = host_services().token(false, "");
        asking_host_on_.store(std::thread::id());
        return t;
    }

    void queue_jobs(Batch &b) {
        for (size_t p = 0; p < b.payloads->size(); ++p) {
            Job &j = jobs_.emplace_back();
            j.batch = &b;
            j.account = &account_for((*b.payloads)[p].account);
            j.p = p;
            j.last = (*b.payloads)[p].size();
            j.body = (*b.payloads)[p].body;
            queue_.push_back(&j);
            ++b.open_jobs;
        }
        if (!watching_) watch_cancellation();
        pump();
    }

    void pump() {
        while (!stopping_ && !queue_.empty() && !idle_.empty()) {
            Job *j = next_job();
            if (j == nullptr) break;  // every queued account already has a connection waiting
            const size_t slot = idle_.back();
            idle_.pop_back();
            if (j->started == time_point{}) j->started = clock_.now();
            paced_send(j, slot);
        }
        if (stopping_) drop_queue();
        else if (!parked_.empty() && parked_.size() == jobs_.size() && every_batch_queued()) release_parked();
    }

    // The first queued job whose account may send at once, else the first whose account has no
    // connection waiting on its pacer yet, else none. So an account on a small budget holds at most
    // one connection while it waits, and the others stay free for the accounts that may send; the
    // waiting one calls pump() again once it has sent. An account with as many jobs in use as there
    // are connections (some backing off) waits too: a failing account sends no more at once than
    // it could if its backoffs held connections, while they do not hold them from the others.
    Job *next_job() {
        const auto now = clock_.now();
        auto pick = queue_.end();
        for (auto it = queue_.begin(); it != queue_.end(); ++it) {
            const Account &a = *(*it)->account;
            if (!a.held() && a.in_use >= slot_timers_.size()) continue;
            if (a.held() || a.pacer.ready(now)) {
                pick = it;
                break;
            }
            if (pick == queue_.end() && !a.pacing_wait) pick = it;
        }
        if (pick == queue_.end()) return nullptr;
        Job *j = *pick;
        queue_.erase(pick);
        ++j->account->in_use;
        return j;
    }

    Account &account_for(const std::string &id) {
        if (id.empty()) return *configured_;
        if (auto it = accounts_.find(id); it != accounts_.end()) return it->second;  // the configured one too
        return accounts_.try_emplace(id, id, target_for(id), budget_of(id), true).first->second;
    }

    // An account's own budget (account_calls_per_minute), else the sync's (calls_per_minute).
    double budget_of(const std::string &id) const {
        const auto budget = account_budgets_.find(id);
        return static_cast<double>(budget != account_budgets_.end() ? budget->second : calls_per_minute_);
    }

    std::string target_for(const std::string &account) const {
        return "/v5/ad_accounts/" + account + "/events" + (test_events_ ? "?test=true" : "");
    }

    void paced_send(Job *j, size_t slot) {
        if (j->account->refused != SP_ERR_NONE) return refused(j, slot);
        if (j->account->doubted != SP_ERR_NONE) return park(j, slot);
        const auto now = clock_.now();
        const auto when = j->account->pacer.reserve(now);
        if (when <= now) return send(j, slot);
        // A turn past the retry budget (the account's Retry-After holds it back that long): the
        // events are sent again by a later run instead of holding the batch for the wait.
        if (when - j->started > policy_.max_elapsed) return out_of_budget(j, slot, when - now);
        j->account->pacing_wait = true;
        wait_then(j, slot, when, WaitReason::pacing, [this, j, slot] {
            j->account->pacing_wait = false;
            // A Retry-After that came while this call waited holds it back too: a new turn after it.
            if (j->account->pacer.held_until() > clock_.now()) paced_send(j, slot);
            else send(j, slot);
            pump();  // the account's next call may wait now
        });
    }

    void out_of_budget(Job *j, size_t slot, time_point::duration wait) {
        const auto ms = std::chrono::duration_cast<milliseconds>(wait).count();
        DeliveryReport &report = *j->batch->report;
        report.retry_after_ms = std::max<uint64_t>(report.retry_after_ms, static_cast<uint64_t>(ms));
        const std::string why = "ad account " + j->account->id + " may not be called for another " +
                                std::to_string((ms + 999) / 1000) + " s (Retry-After), past the retry budget";
        host_services().log(SP_LOG_WARN, "giving up on " + std::to_string(j->size()) + " events: " + why +
                                             "; they will be sent again on the next run");
        fill(j, SP_RECORD_RETRY, SP_ERR_RATE_LIMIT, "not delivered: " + why);
        end_job(j, slot);
    }

    template <class F>
    void wait_then(Job *j, size_t slot, time_point deadline, WaitReason why, F &&then) {
        slot_timers_[slot]->wait_until(deadline, why, [this, j, slot, ticket = wait_ticket(), then = std::forward<F>(then)](bool fired) mutable {
            if (!fired || stopping_) return end_job(j, slot);
            then();
        });
    }

    void send(Job *j, size_t slot) {
        if (stopping_) return end_job(j, slot);
        if (j->account->refused != SP_ERR_NONE) return refused(j, slot);
        if (j->account->doubted != SP_ERR_NONE) return park(j, slot);
        host_services().metric("pinterest.requests", 1);
        j->token_generation = token_generation_;
        HttpsClient::Request req;
        req.method = "POST";
        req.target = j->account->target;
        req.authorization = authorization_;
        req.content_type = "application/json";
        req.body = j->body;
        const auto sent_at = clock_.now();
        clock_.round_trip_begins();
        client_->request(slot, req, [this, j, slot, sent_at](const HttpResponse &r) {
            clock_.round_trip_ends();  // what on_response waits for or sends next is in this same handler
            record_latency(clock_.now() - sent_at);
            on_response(j, slot, r);
        });
    }

    // Ends a job: frees its slot (a job backing off holds none: kNoSlot), and completes its batch
    // when it was the last open job.
    void end_job(Job *j, size_t slot) {
        if (slot != kNoSlot) idle_.push_back(slot);
        --j->account->in_use;
        Batch *b = j->batch;
        jobs_.remove_if([j](const Job &x) { return &x == j; });
        if (--b->open_jobs == 0) finish_batch(*b, stopping_ ? stopped_reason() : "not sent");
        pump();
    }

    // Jobs not started when the run stops: their events stay RETRY.
    void drop_queue() {
        for (Job *p : std::exchange(parked_, {})) {
            --p->account->in_use;
            queue_.push_back(p);
        }
        while (!queue_.empty()) {
            Job *j = queue_.front();
            queue_.pop_front();
            Batch *b = j->batch;
            jobs_.remove_if([j](const Job &x) { return &x == j; });
            if (--b->open_jobs == 0) finish_batch(*b, stopped_reason());
        }
    }

    std::string stopped_reason() const {
        return "not sent: " + (fatal_message_.empty() ? std::string("the run was stopped") : fatal_message_);
    }

    void finish_batch(Batch &b, const std::string &reason) {
        DeliveryReport &report = *b.report;
        if (fatal_category_ != SP_ERR_NONE && report.fatal_category == SP_ERR_NONE) {
            report.fatal_category = fatal_category_;
            report.fatal_message = fatal_message_;
        }
        for (auto &per_payload : report.outcomes)
            for (auto &o : per_payload)
                if (o.status == SP_RECORD_RETRY && o.message.empty()) {
                    o.category = fatal_category_ != SP_ERR_NONE ? fatal_category_ : SP_ERR_TRANSIENT;
                    o.message = reason;
                }
        auto done = std::move(b.done);
        batches_.remove_if([&b](const Batch &x) { return &x == &b; });
        if (batches_.empty()) cancel_poll_->cancel();
        done();
    }

    // ---- answers -----------------------------------------------------------------------------

    void on_response(Job *j, size_t slot, const HttpResponse &r) {
        const std::string rid = r.request_id.empty() ? "" : " (x-pinterest-rid " + r.request_id + ")";
        if (r.error == NetError::cancelled) return end_job(j, slot);
        // Stopping (another account's refusal, say) sends nothing new, but an answer that says what
        // Pinterest did with the events still counts: they must not be left to send again.
        if (stopping_) return settle_while_stopping(j, slot, r);
        if (r.error == NetError::tls_verify)
            return fatal(j, slot, SP_ERR_CONFIG,
                         "cannot verify the TLS certificate of the Pinterest API: " + r.error_detail +
                             " (set ca_file when a sandbox or TLS-inspecting proxy is in the way)");
        if (r.error != NetError::none)
            return retry_later(j, slot, std::string(to_string(r.error)) + (r.error_detail.empty() ? "" : ": " + r.error_detail),
                               std::nullopt);

        const unsigned s = r.status;
        if (s == 200 || s == 422) {
            std::vector<EventOutcome> outcomes;
            std::string problem;
            if (parse_event_results(r.body, j->size(), outcomes, problem)) {
                if (s == 200) j->account->pacer.on_success();
                return complete(j, slot, std::move(outcomes));
            }
            if (s == 200) return retry_later(j, slot, "malformed 200 response: " + problem + rid, std::nullopt);
            return reject_all(j, slot, "Pinterest rejected the events: " + error_summary(s, r.body) + rid, rid);
        }
        if (s == 401) return on_unauthorized(j, slot, rid);
        if (s == 403)
            return refuse(j, slot, SP_ERR_PERMISSION,
                          "Pinterest denied access to ad account " + j->account->id + " (" +
                              error_summary(s, r.body) + ")" + rid +
                              ": make sure the authenticated user has access to the ad account with conversion "
                              "permissions and the token carries the scopes ads:write and ads:read",
                          rid);
        if (s == 404)
            return refuse(j, slot, SP_ERR_CONFIG,
                          "Pinterest does not know ad account " + j->account->id + " (" + error_summary(s, r.body) +
                              ")" + rid + ": verify the Ad Account ID in Pinterest Ads Manager; it is numeric",
                          rid);
        if (s == 400) {
            const std::string summary = error_summary(s, r.body);
            if (summary.find("ad account") != std::string::npos || summary.find("ad_account") != std::string::npos)
                return refuse(j, slot, SP_ERR_CONFIG,
                              "Pinterest refused ad account " + j->account->id + " (" + summary + ")" + rid +
                                  ": verify the Ad Account ID in Pinterest Ads Manager; it is numeric",
                              rid);
            if (j->size() > 1) return split(j, slot);
            return reject_all(j, slot, "Pinterest rejected the event: " + summary + rid, rid);
        }
        if (retryable_status(s)) {
            const auto retry_after =
                parse_retry_after(r.retry_after, host_services().now_unix_seconds(), policy_.max_retry_after);
            if (s == 429) {
                j->account->pacer.on_rate_limited();
                // The account's budget is spent until then: none of its calls starts earlier.
                if (retry_after) j->account->pacer.hold_until(clock_.now() + *retry_after);
                host_services().metric("pinterest.rate_limited", 1);
            }
            return retry_later(j, slot, error_summary(s, r.body) + rid, retry_after, ramped_down(s, r.body),
                               s == 429 ? SP_ERR_RATE_LIMIT : SP_ERR_TRANSIENT);
        }
        reject_all(j, slot, "Pinterest refused the request: " + error_summary(s, r.body) + rid, rid);
    }

    // Once the run stops: a 200 or 422 with per-event results is applied; anything else leaves the
    // job's events RETRY, as the run stops without sending them again.
    void settle_while_stopping(Job *j, size_t slot, const HttpResponse &r) {
        std::vector<EventOutcome> outcomes;
        std::string problem;
        if (r.error == NetError::none && (r.status == 200 || r.status == 422) &&
            parse_event_results(r.body, j->size(), outcomes, problem))
            return complete(j, slot, std::move(outcomes));
        end_job(j, slot);
    }

    void on_unauthorized(Job *j, size_t slot, const std::string &rid) {
        if (j->token_generation != token_generation_) return send(j, slot);  // another job already refreshed
        if (!j->refreshed) {
            j->refreshed = true;
            host_services().log(SP_LOG_INFO, "Pinterest answered 401" + rid + "; asking the host for a fresh token");
            return with_token(true, [this, j, slot](bool ok) {
                if (stopping_) return end_job(j, slot);
                if (ok) return send(j, slot);
                fatal(j, slot, fatal_category_, fatal_message_);
            });
        }
        fatal(j, slot, SP_ERR_AUTH,
              "Pinterest rejected the access token (401)" + rid +
                  " even after a refresh: reconnect the account, or generate a new conversion access token");
    }

    // Asks the host for the token on one of the pool's host-call threads, then runs then(ok) on
    // this delivery's thread. The host may refresh it over the network: on the I/O thread, that
    // would stall every other delivery placed there. One question at a time, in order, so that an
    // older answer never replaces a newer token; a forced refresh whose token another refresh has
    // replaced meanwhile is not asked for (concurrent 401s cause one refresh).
    void with_token(bool force, std::function<void(bool)> then) {
        token_waits_.push_back({force, token_generation_, std::move(then)});
        if (token_waits_.size() == 1) ask_host_for_token();
    }

    void ask_host_for_token() {
        const TokenWait &w = token_waits_.front();
        if (w.force && w.generation != token_generation_)
            return net::post(ioc_, [this, ticket = wait_ticket()] { token_answered(true); });
        clock_.round_trip_begins();  // the host's answer, like a response, takes no time on a test's clock
        net::post(pool_->host_calls(), [this, force = w.force, rejected = token_, ticket = wait_ticket()]() mutable {
            auto answer = std::make_shared<HostServices::Token>(host_services().token(force, rejected));
            cleanse(rejected);
            net::post(ioc_, [this, force, answer, ticket = std::move(ticket)] {
                clock_.round_trip_ends();
                const bool ok = take_token(force, *answer);  // which cleanses the answer
                if (force) ++refreshes_answered_;
                token_answered(ok);
            });
        });
    }

    void token_answered(bool ok) {
        std::function<void(bool)> then = std::move(token_waits_.front().then);
        token_waits_.pop_front();
        if (!token_waits_.empty()) ask_host_for_token();
        then(ok);
    }

    bool take_token(bool force, HostServices::Token &t) {
        if (t.status == SP_CRED_OK) {
            if (t.value != token_) {
                cleanse(token_);
                cleanse(authorization_);
                token_ = std::move(t.value);
                authorization_ = "Bearer " + token_;
                ++token_generation_;
            }
            cleanse(t.value);
            return true;
        }
        const sp_error_category cat = t.status == SP_CRED_TRANSIENT ? SP_ERR_TRANSIENT : SP_ERR_AUTH;
        const std::string why = t.message.empty() ? "no access token available" : t.message;
        set_fatal(cat, (force ? "could not refresh the access token: " : "no access token: ") + why);
        return false;
    }

    // `give_up` is the category of the RETRY outcomes when the retry budget runs out: RATE_LIMIT
    // when the destination was throttling, else TRANSIENT.
    void retry_later(Job *j, size_t slot, const std::string &reason, std::optional<milliseconds> retry_after,
                     bool ramped = false, sp_error_category give_up = SP_ERR_TRANSIENT) {
        host_services().metric("pinterest.retries", 1);
        const milliseconds wait = next_wait(policy_, j->attempt, retry_after, rng_, ramped);
        ++j->attempt;
        const auto now = clock_.now();
        const auto elapsed = now - j->started;
        if (elapsed + wait > policy_.max_elapsed) {
            DeliveryReport &report = *j->batch->report;
            report.retry_after_ms = std::max<uint64_t>(report.retry_after_ms, static_cast<uint64_t>(wait.count()));
            const auto secs = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
            host_services().log(SP_LOG_WARN, "giving up on " + std::to_string(j->size()) + " events after " +
                                                 std::to_string(j->attempt) + " attempts in " + std::to_string(secs) +
                                                 " s: " + reason + "; they will be sent again on the next run");
            fill(j, SP_RECORD_RETRY, give_up, "not delivered after " + std::to_string(j->attempt) + " attempts: " + reason);
            return end_job(j, slot);
        }
        host_services().log(SP_LOG_WARN, reason + "; retrying " + std::to_string(j->size()) + " events in " +
                                             std::to_string(wait.count()) + " ms (attempt " +
                                             std::to_string(j->attempt + 1) + ")");
        // The wait holds no connection, so one account's trouble (a 429 with Retry-After, an
        // outage of its shard) does not keep the other accounts' jobs from theirs. Then the job
        // queues again at the front, and goes through pacing like any other call.
        idle_.push_back(slot);
        if (!j->backoff) j->backoff = clock_.make_timer(ioc_);
        j->backoff->wait_until(now + wait, WaitReason::backoff, [this, j, ticket = wait_ticket()](bool fired) {
            if (!fired || stopping_) return end_job(j, kNoSlot);
            --j->account->in_use;
            queue_.push_front(j);
            pump();
        });
        pump();
    }

    void split(Job *j, size_t slot) {
        host_services().log(SP_LOG_INFO, "400 for a request of " + std::to_string(j->size()) +
                                             " events: splitting it to isolate the bad event(s)");
        const size_t mid = j->first + j->size() / 2;
        for (auto [first, last] : {std::pair{mid, j->last}, std::pair{j->first, mid}}) {
            Job &h = jobs_.emplace_back();
            h.batch = j->batch;
            h.account = j->account;
            h.p = j->p;
            h.first = first;
            h.last = last;
            h.owned_body = (*j->batch->payloads)[j->p].slice(first, last).body;
            h.body = h.owned_body;
            h.started = j->started;
            queue_.push_front(&h);
            ++j->batch->open_jobs;
        }
        end_job(j, slot);
    }

    void complete(Job *j, size_t slot, std::vector<EventOutcome> outcomes) {
        writes_accepted();
        auto &dst = j->batch->report->outcomes[j->p];
        size_t ok = 0;
        for (size_t i = 0; i < outcomes.size(); ++i) {
            ok += outcomes[i].status == SP_RECORD_OK;
            dst[j->first + i] = std::move(outcomes[i]);
        }
        host_services().metric("pinterest.events_processed", static_cast<double>(ok));
        end_job(j, slot);
    }

    // `rid` (the request id as `message` carries it) is logged, and left out of the rows' reason:
    // the rows of one cause then share one reason (`synchost status` groups them by it).
    void reject_all(Job *j, size_t slot, const std::string &message, const std::string &rid) {
        host_services().log(SP_LOG_WARN, message);
        fill(j, SP_RECORD_REJECTED, SP_ERR_DATA, without(message, rid));
        end_job(j, slot);
    }

    static std::string without(std::string message, const std::string &rid) {
        if (const size_t at = rid.empty() ? std::string::npos : message.find(rid); at != std::string::npos)
            message.erase(at, rid.size());
        return message;
    }

    void fill(Job *j, sp_record_status status, sp_error_category category, const std::string &message) {
        auto &dst = j->batch->report->outcomes[j->p];
        for (size_t i = j->first; i < j->last; ++i) dst[i] = {status, category, 0, message};
    }

    void set_fatal(sp_error_category category, const std::string &message) {
        if (fatal_category_ != SP_ERR_NONE) return;
        fatal_category_ = category;
        fatal_message_ = message;
        host_services().log(SP_LOG_ERROR, message);
    }

    // Pinterest refused the job's account. The configured account's refusal stops the run (nothing
    // could be delivered); a routed account's rejects its events, now and in every later job, and
    // the other accounts go on. Until some request of this delivery was accepted, though, the
    // refusal may be the token's: the account is only doubted, and its jobs wait for a verdict.
    void refuse(Job *j, size_t slot, sp_error_category category, const std::string &message,
                const std::string &rid) {
        Account &a = *j->account;
        if (!a.routed) return fatal(j, slot, category, message);
        if (!a.held()) {
            a.refusal = without(message, rid);
            if (accepted_) {
                a.refused = category;
                host_services().log(SP_LOG_ERROR, message + "; rejecting that account's events, the others go on");
            } else {
                a.doubted = category;
                host_services().log(SP_LOG_ERROR, message + "; no request of this run was accepted yet, so its events "
                                                            "wait until one is (then they are rejected)");
            }
        }
        if (a.doubted != SP_ERR_NONE) return park(j, slot);
        refused(j, slot);
    }

    // A job of a doubted account waits, holding no connection, for the verdict. The connection
    // goes to the next job by a pump() run after this handler (park is called inside pump() too).
    void park(Job *j, size_t slot) {
        if (slot != kNoSlot) idle_.push_back(slot);
        parked_.push_back(j);
        if (pump_posted_) return;
        pump_posted_ = true;
        net::post(ioc_, [this, ticket = wait_ticket()] {
            pump_posted_ = false;
            pump();
        });
    }

    // A request was accepted (a 200 or 422 with per-event results): the token may send events, so
    // the doubted accounts' refusals are their own, and their jobs are rejected.
    void writes_accepted() {
        if (accepted_) return;
        accepted_ = true;
        for (auto &[id, a] : accounts_) {
            if (a.doubted == SP_ERR_NONE) continue;
            a.refused = std::exchange(a.doubted, SP_ERR_NONE);
            if (!stopping_)
                host_services().log(SP_LOG_ERROR, a.refusal + "; rejecting that account's events, the others go on");
        }
        for (Job *p : std::exchange(parked_, {})) refused(p, kNoSlot);
    }

    // A batch still waiting for its token has queued no job yet: its requests may bring the verdict.
    bool every_batch_queued() const {
        return std::all_of(batches_.begin(), batches_.end(), [](const Batch &b) { return b.open_jobs > 0; });
    }

    // Nothing but parked jobs is left and no verdict came: their events are sent again by a later
    // run, as a refusal that may be the token's must not reject them.
    void release_parked() {
        for (Job *p : std::exchange(parked_, {})) {
            fill(p, SP_RECORD_RETRY, p->account->doubted,
                 p->account->refusal +
                     "; no request of this run was accepted, so the refusal may be the token's (the ads:write "
                     "scope, or its access) rather than this account's: sent again on the next run");
            end_job(p, kNoSlot);
        }
    }

    void refused(Job *j, size_t slot) {
        fill(j, SP_RECORD_REJECTED, j->account->refused, j->account->refusal);
        end_job(j, slot);
    }

    // Stops the run: nothing new is sent; what is in flight completes, and its answers count
    // (settle_while_stopping); the rest is RETRY.
    void fatal(Job *j, size_t slot, sp_error_category category, const std::string &message) {
        set_fatal(category, message);
        stopping_ = true;
        cancel_waits();
        end_job(j, slot);
    }

    void stop_everything() {
        stopping_ = true;
        client_->cancel_all();
        cancel_waits();
        drop_queue();
    }

    // Pacing waits and backoffs end now, their jobs with them (their handlers see `stopping_`).
    void cancel_waits() {
        for (auto &t : slot_timers_) t->cancel();
        for (Job &j : jobs_)
            if (j.backoff) j.backoff->cancel();
    }

    void watch_cancellation() {
        watching_ = true;
        cancel_poll_->expires_after(std::chrono::milliseconds(100));
        cancel_poll_->async_wait([this, ticket = wait_ticket()](boost::system::error_code ec) {
            watching_ = false;
            if (ec || batches_.empty()) return;
            if (host_services().cancelled()) {
                host_services().log(SP_LOG_INFO, "cancelled: stopping the requests in flight");
                return stop_everything();
            }
            watch_cancellation();
        });
    }

    // Request latency as a cumulative histogram the host can read back from its metrics
    // ("pinterest.request_ms.le_<bound>" counts requests that took at most <bound> ms, as
    // Prometheus buckets do; le_inf counts them all).
    void record_latency(Clock::time_point::duration d) {
        static constexpr int kBounds[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000};
        const auto ms = std::chrono::duration_cast<std::chrono::microseconds>(d).count() / 1000.0;
        const HostServices host = host_services();
        for (int b : kBounds)
            if (ms <= b) host.metric(("pinterest.request_ms.le_" + std::to_string(b)).c_str(), 1);
        host.metric("pinterest.request_ms.le_inf", 1);
    }

    HostServices host_services() const { return HostServices(host_); }

    // Gives the io_context back to the pool when the delivery is gone (after close() drained it).
    struct Placement {
        IoPool *pool;
        net::io_context *ioc;
        Placement(IoPool *p, net::io_context *i) : pool(p), ioc(i) {}
        ~Placement() { pool->release(*ioc); }
        Placement(const Placement &) = delete;
        Placement &operator=(const Placement &) = delete;
    };

    const sp_host *host_;
    Clock &clock_;
    std::shared_ptr<IoPool> pool_;
    net::io_context &ioc_;
    Placement placement_;
    std::optional<HttpsClient> client_;  // destroyed on the I/O thread by close()
    RetryPolicy policy_;
    std::mt19937_64 rng_;
    std::string token_, authorization_;
    bool test_events_;
    int64_t calls_per_minute_;
    std::map<std::string, int64_t, std::less<>> account_budgets_;
    std::map<std::string, Account, std::less<>> accounts_;  // by id; nodes never move
    Account *configured_ = nullptr;                         // the config's ad_account_id, in accounts_
    uint64_t token_generation_ = 0;
    struct TokenWait {
        bool force;
        uint64_t generation;  // of the token when it was asked for (the one a 401 refused)
        std::function<void(bool ok)> then;
    };
    std::deque<TokenWait> token_waits_;  // with_token(): the first is being asked
    std::atomic<uint64_t> refreshes_answered_{0};  // forced refreshes taken; start() reads it
    std::atomic<std::thread::id> asking_host_on_;  // the thread inside start()'s token call, if any
    std::vector<std::unique_ptr<Timer>> slot_timers_;
    std::optional<net::steady_timer> cancel_poll_;  // real time: how soon a stop is noticed, not a schedule
    std::atomic<size_t> waiting_handlers_{0};       // handlers held by the timers and the poll
    std::atomic<bool> closed_{false};

    std::list<Batch> batches_;  // stable addresses
    std::list<Job> jobs_;
    std::deque<Job *> queue_;
    std::vector<Job *> parked_;  // jobs of doubted accounts (Account::doubted)
    bool accepted_ = false;      // a request of this delivery was accepted (writes_accepted)
    bool pump_posted_ = false;   // park() has a pump() queued
    std::vector<size_t> idle_;
    static constexpr size_t kNoSlot = static_cast<size_t>(-1);
    bool stopping_ = false, watching_ = false;
    sp_error_category fatal_category_ = SP_ERR_NONE;
    std::string fatal_message_;
};

}  // namespace

std::unique_ptr<Delivery> make_https_delivery(const PluginConfig &config, bool test_events, const sp_host *host,
                                              const DeliveryOptions &options) {
    try {
        return std::make_unique<HttpsDelivery>(config, test_events, host, options);
    } catch (const sp::failure &) {
        throw;
    } catch (const std::exception &e) {
        throw sp::failure(SP_ERR_CONFIG, e.what());
    }
}

}  // namespace pcapi
