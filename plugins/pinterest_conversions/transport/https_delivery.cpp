#include "transport/https_delivery.hpp"

#include "transport/endpoint.hpp"
#include "transport/host_services.hpp"
#include "net/https_client.hpp"
#include "transport/pacer.hpp"
#include "transport/response.hpp"
#include "transport/retry_policy.hpp"

#include <syncplugin/syncplugin.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <list>

namespace pcapi {

using namespace transport;
using namespace spnet;
namespace net = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

// One request's worth of events: items [first, last) of payload `p`. A 400 splits a job in two
// so that one bad event cannot keep the good ones from landing.
struct Job {
    size_t p = 0, first = 0, last = 0;
    std::string owned_body;  // for a split job; otherwise the payload's body is used
    std::string_view body;
    unsigned attempt = 0;
    bool refreshed = false;  // the token was refreshed once for this job after a 401
    uint64_t token_generation = 0;  // which token the last attempt carried
    clock::time_point started{};
    std::string last_error;
    size_t size() const { return last - first; }
};

class HttpsDelivery final : public Delivery {
public:
    HttpsDelivery(const PluginConfig &c, bool test_events, const sp_host *host)
        : host_(host),
          client_(ioc_, client_options(c), static_cast<size_t>(c.max_in_flight)),
          pacer_(static_cast<double>(c.calls_per_minute)),
          rng_(std::random_device{}()),
          ad_account_(c.ad_account_id),
          cancel_poll_(ioc_) {
        policy_.initial = milliseconds(c.retry_initial_backoff_ms);
        policy_.max_backoff = milliseconds(c.retry_max_backoff_ms);
        policy_.max_elapsed = milliseconds(c.retry_max_elapsed_seconds * 1000);
        target_ = "/v5/ad_accounts/" + c.ad_account_id + "/events" + (test_events ? "?test=true" : "");
        for (size_t i = 0; i < client_.slots(); ++i) slot_timers_.emplace_back(ioc_);
    }

    ~HttpsDelivery() override { close(); }

    void deliver(const std::vector<Payload> &payloads, DeliveryReport &report) override {
        report.reset(payloads);
        if (payloads.empty()) return;
        payloads_ = &payloads;
        report_ = &report;
        stopping_ = false;
        jobs_.clear();
        queue_.clear();
        idle_.clear();
        for (size_t s = 0; s < client_.slots(); ++s) idle_.push_back(s);

        if (!refresh_token(false)) return finish_all("not sent: " + report.fatal_message);
        for (size_t p = 0; p < payloads.size(); ++p) {
            Job &j = jobs_.emplace_back();
            j.p = p;
            j.last = payloads[p].size();
            j.body = payloads[p].body;
            queue_.push_back(&j);
        }
        ioc_.restart();
        watch_cancellation();
        pump();
        ioc_.run();
        finish_all(stopping_ && !report.fatal_message.empty() ? "not sent: " + report.fatal_message
                                                               : "not sent: the run was stopped");
    }

    void close() override {
        if (closed_) return;
        closed_ = true;
        client_.cancel_all();
        ioc_.restart();
        ioc_.poll();  // let cancelled operations finish
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
        return o;
    }

    // ---- scheduling --------------------------------------------------------------------------

    void pump() {
        while (!stopping_ && !queue_.empty() && !idle_.empty()) {
            Job *j = queue_.front();
            queue_.pop_front();
            const size_t slot = idle_.back();
            idle_.pop_back();
            if (j->started == clock::time_point{}) j->started = clock::now();
            ++in_flight_;
            paced_send(j, slot);
        }
        if (in_flight_ == 0 && (queue_.empty() || stopping_)) cancel_poll_.cancel();  // nothing left: let run() return
    }

    void paced_send(Job *j, size_t slot) {
        const auto now = clock::now();
        const auto when = pacer_.reserve(now);
        if (when <= now) return send(j, slot);
        wait_then(slot, when - now, [this, j, slot] { send(j, slot); });
    }

    template <class F>
    void wait_then(size_t slot, clock::duration d, F &&then) {
        auto &t = slot_timers_[slot];
        t.expires_after(d);
        t.async_wait([this, j_then = std::forward<F>(then), slot](boost::system::error_code ec) mutable {
            if (ec || stopping_) return release(slot, nullptr);
            j_then();
        });
    }

    void send(Job *j, size_t slot) {
        if (stopping_) return release(slot, j);
        host_services().metric("pinterest.requests", 1);
        j->token_generation = token_generation_;
        HttpsClient::Request req;
        req.method = "POST";
        req.target = target_;
        req.authorization = authorization_;
        req.content_type = "application/json";
        req.body = j->body;
        client_.request(slot, req, [this, j, slot](HttpResponse r) {
            on_response(j, slot, std::move(r));
        });
    }

    // A slot is free again. A job that was not finished goes back to being "not sent" (RETRY).
    void release(size_t slot, Job *unfinished) {
        (void)unfinished;  // its outcomes stay RETRY and get a message in finish_all()
        idle_.push_back(slot);
        --in_flight_;
        pump();
    }

    // ---- answers -----------------------------------------------------------------------------

    void on_response(Job *j, size_t slot, HttpResponse r) {
        const std::string rid = r.request_id.empty() ? "" : " (x-pinterest-rid " + r.request_id + ")";
        if (r.error == NetError::cancelled || stopping_) return release(slot, j);
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
                if (s == 200) pacer_.on_success();
                return complete(j, slot, std::move(outcomes));
            }
            if (s == 200) return retry_later(j, slot, "malformed 200 response: " + problem + rid, std::nullopt);
            return reject_all(j, slot, "Pinterest rejected the events: " + error_summary(s, r.body) + rid);
        }
        if (s == 401) return on_unauthorized(j, slot, rid);
        if (s == 403)
            return fatal(j, slot, SP_ERR_PERMISSION,
                         "Pinterest denied access to ad account " + ad_account_ + " (" + error_summary(s, r.body) + ")" +
                             rid +
                             ": make sure the authenticated user has access to the ad account with conversion "
                             "permissions and the token carries the scopes ads:write and ads:read");
        if (s == 404)
            return fatal(j, slot, SP_ERR_CONFIG,
                         "Pinterest does not know ad account " + ad_account_ + " (" + error_summary(s, r.body) + ")" +
                             rid + ": verify the Ad Account ID in Pinterest Ads Manager; it is numeric");
        if (s == 400) {
            const std::string summary = error_summary(s, r.body);
            if (summary.find("ad account") != std::string::npos || summary.find("ad_account") != std::string::npos)
                return fatal(j, slot, SP_ERR_CONFIG,
                             "Pinterest refused ad account " + ad_account_ + " (" + summary + ")" + rid +
                                 ": verify the Ad Account ID in Pinterest Ads Manager; it is numeric");
            if (j->size() > 1) return split(j, slot);
            return reject_all(j, slot, "Pinterest rejected the event: " + summary + rid);
        }
        if (retryable_status(s)) {
            if (s == 429) {
                pacer_.on_rate_limited();
                host_services().metric("pinterest.rate_limited", 1);
            }
            return retry_later(j, slot, error_summary(s, r.body) + rid,
                               parse_retry_after(r.retry_after, host_services().now_unix_seconds(),
                                                 policy_.max_retry_after));
        }
        reject_all(j, slot, "Pinterest refused the request: " + error_summary(s, r.body) + rid);
    }

    void on_unauthorized(Job *j, size_t slot, const std::string &rid) {
        if (j->token_generation != token_generation_) return send(j, slot);  // another job already refreshed
        if (!j->refreshed) {
            j->refreshed = true;
            host_services().log(SP_LOG_INFO, "Pinterest answered 401" + rid + "; asking the host for a fresh token");
            if (refresh_token(true)) return send(j, slot);
            return fatal(j, slot, report_->fatal_category, report_->fatal_message);
        }
        fatal(j, slot, SP_ERR_AUTH,
              "Pinterest rejected the access token (401)" + rid +
                  " even after a refresh: reconnect the account, or generate a new conversion access token");
    }

    bool refresh_token(bool force) {
        HostServices::Token t = host_services().token(force, token_);
        if (t.status == SP_CRED_OK) {
            cleanse(token_);
            cleanse(authorization_);
            token_ = std::move(t.value);
            authorization_ = "Bearer " + token_;
            ++token_generation_;
            return true;
        }
        const sp_error_category cat = t.status == SP_CRED_TRANSIENT ? SP_ERR_TRANSIENT : SP_ERR_AUTH;
        std::string why = t.message.empty() ? "no access token available" : t.message;
        set_fatal(cat, (force ? "could not refresh the access token: " : "no access token: ") + why);
        return false;
    }

    void retry_later(Job *j, size_t slot, const std::string &reason, std::optional<milliseconds> retry_after) {
        host_services().metric("pinterest.retries", 1);
        j->last_error = reason;
        const milliseconds wait = next_wait(policy_, j->attempt, retry_after, rng_);
        ++j->attempt;
        const auto elapsed = clock::now() - j->started;
        if (elapsed + wait > policy_.max_elapsed) {
            report_->retry_after_ms = std::max<uint64_t>(report_->retry_after_ms, static_cast<uint64_t>(wait.count()));
            const auto secs = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
            host_services().log(SP_LOG_WARN, "giving up on " + std::to_string(j->size()) + " events after " +
                                                 std::to_string(j->attempt) + " attempts in " + std::to_string(secs) +
                                                 " s: " + reason + "; they will be sent again on the next run");
            fill(j, SP_RECORD_RETRY, SP_ERR_TRANSIENT,
                 "not delivered after " + std::to_string(j->attempt) + " attempts: " + reason);
            return release(slot, nullptr);
        }
        host_services().log(SP_LOG_WARN, reason + "; retrying " + std::to_string(j->size()) + " events in " +
                                             std::to_string(wait.count()) + " ms (attempt " +
                                             std::to_string(j->attempt + 1) + ")");
        wait_then(slot, wait, [this, j, slot] {
            // Re-enter pacing: a retry is a call like any other.
            const auto now = clock::now();
            const auto when = pacer_.reserve(now);
            if (when <= now) return send(j, slot);
            wait_then(slot, when - now, [this, j, slot] { send(j, slot); });
        });
    }

    void split(Job *j, size_t slot) {
        host_services().log(SP_LOG_INFO, "400 for a request of " + std::to_string(j->size()) +
                                             " events: splitting it to isolate the bad event(s)");
        const size_t mid = j->first + j->size() / 2;
        for (auto [first, last] : {std::pair{mid, j->last}, std::pair{j->first, mid}}) {
            Job &h = jobs_.emplace_back();
            h.p = j->p;
            h.first = first;
            h.last = last;
            h.owned_body = (*payloads_)[j->p].slice(first, last).body;
            h.body = h.owned_body;
            h.started = j->started;
            queue_.push_front(&h);
        }
        release(slot, nullptr);
    }

    void complete(Job *j, size_t slot, std::vector<EventOutcome> outcomes) {
        auto &dst = report_->outcomes[j->p];
        size_t sent_ok = 0;
        for (size_t i = 0; i < outcomes.size(); ++i) {
            sent_ok += outcomes[i].status == SP_RECORD_OK;
            dst[j->first + i] = std::move(outcomes[i]);
        }
        host_services().metric("pinterest.events_processed", static_cast<double>(sent_ok));
        release(slot, nullptr);
    }

    void reject_all(Job *j, size_t slot, const std::string &message) {
        host_services().log(SP_LOG_WARN, message);
        fill(j, SP_RECORD_REJECTED, SP_ERR_DATA, message);
        release(slot, nullptr);
    }

    void fill(Job *j, sp_record_status status, sp_error_category category, const std::string &message) {
        auto &dst = report_->outcomes[j->p];
        for (size_t i = j->first; i < j->last; ++i) dst[i] = {status, category, 0, message};
    }

    void set_fatal(sp_error_category category, const std::string &message) {
        if (report_->fatal_category != SP_ERR_NONE) return;
        report_->fatal_category = category;
        report_->fatal_message = message;
        host_services().log(SP_LOG_ERROR, message);
    }

    // Stops the run: nothing new is sent; what is in flight completes; the rest is RETRY.
    void fatal(Job *j, size_t slot, sp_error_category category, const std::string &message) {
        set_fatal(category, message);
        stopping_ = true;
        for (auto &t : slot_timers_) t.cancel();
        release(slot, j);
    }

    // Every outcome that is still the default RETRY without a reason gets one.
    void finish_all(const std::string &reason) {
        for (auto &per_payload : report_->outcomes)
            for (auto &o : per_payload)
                if (o.status == SP_RECORD_RETRY && o.message.empty()) {
                    o.category = report_->fatal_category != SP_ERR_NONE ? report_->fatal_category : SP_ERR_TRANSIENT;
                    o.message = reason;
                }
    }

    void watch_cancellation() {
        cancel_poll_.expires_after(std::chrono::milliseconds(100));
        cancel_poll_.async_wait([this](boost::system::error_code ec) {
            if (ec) return;
            if (host_services().cancelled()) {
                host_services().log(SP_LOG_INFO, "cancelled: stopping after the requests in flight");
                stopping_ = true;
                client_.cancel_all();
                for (auto &t : slot_timers_) t.cancel();
                return;
            }
            watch_cancellation();
        });
    }

    HostServices host_services() const { return HostServices(host_); }

    const sp_host *host_;
    net::io_context ioc_{1};
    HttpsClient client_;
    Pacer pacer_;
    RetryPolicy policy_;
    std::mt19937_64 rng_;
    std::string ad_account_, target_, token_, authorization_;
    uint64_t token_generation_ = 0;
    std::vector<net::steady_timer> slot_timers_;
    net::steady_timer cancel_poll_;
    bool closed_ = false;

    // State of the current deliver() call.
    const std::vector<Payload> *payloads_ = nullptr;
    DeliveryReport *report_ = nullptr;
    std::list<Job> jobs_;  // stable addresses
    std::deque<Job *> queue_;
    std::vector<size_t> idle_;
    size_t in_flight_ = 0;
    bool stopping_ = false;
};

}  // namespace

std::unique_ptr<Delivery> make_https_delivery(const PluginConfig &config, bool test_events, const sp_host *host) {
    try {
        return std::make_unique<HttpsDelivery>(config, test_events, host);
    } catch (const sp::failure &) {
        throw;
    } catch (const std::exception &e) {
        throw sp::failure(SP_ERR_CONFIG, e.what());
    }
}

}  // namespace pcapi
