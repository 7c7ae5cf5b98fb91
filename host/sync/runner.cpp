#include "sync/runner.hpp"

#include "exit_codes.hpp"
#include "quality/quality_report.hpp"
#include "sync/abi_params.hpp"
#include "sync/hash_multiset.hpp"
#include "sync/mode_rules.hpp"
#include "sync/route_counts.hpp"
#include "sync/row_key.hpp"
#include "sync/sync_state.hpp"

#include <support/batch_builder.hpp>
#include <support/suggest.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <ostream>
#include <unordered_set>

namespace synchost {

int exit_code_for(sp_error_category c) {
    switch (c) {
    case SP_ERR_NONE: return kExitOk;
    case SP_ERR_CONFIG:
    case SP_ERR_UNSUPPORTED: return kExitConfig;
    case SP_ERR_AUTH:
    case SP_ERR_PERMISSION: return kExitAuth;
    case SP_ERR_RATE_LIMIT:
    case SP_ERR_TRANSIENT: return kExitTransient;
    case SP_ERR_DATA:
    case SP_ERR_INTERNAL: return kExitInternal;
    }
    return kExitInternal;
}

namespace {

// A record queued for the plugin: what the state needs to know once its result comes back.
struct Pending {
    std::string pk;
    uint64_t hash;
    uint64_t key_hash;  // of pk, for the set of unsettled keys
    uint64_t position;  // 1-based row number in the query result (0: a departed key)
    uint32_t op;        // sp_operation
    bool replaces;      // the key was delivered before: an update (or, in audiences, a change)
    std::string route;  // the row's routing value (RouteCounts), when the run counts by one
};

// How a row is to be handled (see mode_rules.hpp), and what travels with it when it is sent.
struct Decision {
    Act act = Act::skip;
    uint32_t op = SP_OP_UPSERT;
    uint64_t previous = 0;  // the content hash last delivered, 0 for a new key
    bool replaces = false;
    std::string record_key;
};

const char *const kOperationNames[4] = {"upsert", "delete", "add", "remove"};

// The host services as the plugin sees them, with one change: a stop (the first Ctrl-C or
// SIGTERM) becomes the plugin's cancellation once the batches in flight had kStopGrace to finish.
// A destination that keeps failing or hangs would otherwise hold a stopped run for the plugin's
// whole retry budget; cancelled, the plugin stops retrying and answers RETRY for the rest.
class StopAwareHost {
public:
    static constexpr std::chrono::milliseconds kStopGrace{2000};

    StopAwareHost(const sp_host &inner, const std::atomic<bool> &stop) : inner_(inner), stop_(stop), host_(inner) {
        host_.ctx = this;
        host_.log = [](void *c, sp_log_level l, const char *m) { self(c)->inner_.log(self(c)->inner_.ctx, l, m); };
        host_.now_unix_ms = [](void *c) { return self(c)->inner_.now_unix_ms(self(c)->inner_.ctx); };
        host_.is_cancelled = cancelled;
        host_.get_access_token = [](void *c, uint32_t flags, const char *rejected, char *out, uint32_t cap,
                                    uint32_t *len, char *msg, uint32_t msg_cap) {
            const sp_host &in = self(c)->inner_;
            return in.get_access_token(in.ctx, flags, rejected, out, cap, len, msg, msg_cap);
        };
        host_.metric_add = [](void *c, const char *n, double v) {
            self(c)->inner_.metric_add(self(c)->inner_.ctx, n, v);
        };
        host_.get_extension = [](void *c, const char *id) {
            return self(c)->inner_.get_extension(self(c)->inner_.ctx, id);
        };
    }
    const sp_host *get() const { return &host_; }

private:
    static StopAwareHost *self(void *ctx) { return static_cast<StopAwareHost *>(ctx); }
    static int cancelled(void *ctx) {
        StopAwareHost *s = self(ctx);
        if (s->inner_.is_cancelled(s->inner_.ctx)) return 1;
        if (!s->stop_.load()) return 0;
        const int64_t now =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
                .count();
        int64_t seen = 0;
        s->stop_seen_ms_.compare_exchange_strong(seen, now);  // the plugin polls: the first poll dates the stop
        return now - s->stop_seen_ms_.load() >= kStopGrace.count() ? 1 : 0;
    }

    const sp_host &inner_;
    const std::atomic<bool> &stop_;
    sp_host host_;
    std::atomic<int64_t> stop_seen_ms_{0};
};

class Run {
public:
    Run(const SyncDefinition &def, const std::shared_ptr<Plugin> &plugin, StateStore &state, SourceState *beside,
        HostServices &services, Logger &log, Progress &progress, const RunOptions &opt, const std::atomic<bool> &stop)
        : def_(def),
          plugin_(plugin),
          state_(state),
          services_(services),
          log_(log),
          progress_(progress),
          opt_(opt),
          stop_(stop),
          rule_(*mode_rule(def.audience, def.mode)),
          host_(*services.get(), stop),
          keys_(state, beside, def.audience) {}

    RunOutcome execute() {
        if (!opt_.dry_run) state_.use_row_hash(kRowHashVersion);
        summary_ = state_.begin_run(def_.audience ? "audience:" + def_.mode : def_.mode, opt_.dry_run, opt_.test_events);
        try {
            open_instance();
            if (rule_.sends_departures()) guard_departures();
            read_and_send();
        } catch (const CliError &e) {
            fail(e.code(), e.what());
        } catch (const SourceError &e) {
            fail(kExitConfig, e.what());
        } catch (const std::exception &e) {
            fail(kExitInternal, e.what());
        }
        return finish();
    }

private:
    void open_instance() {
        AbiConfig config(def_.config);
        AbiMapping mapping(def_.mapping);
        const sp_open_params p = open_params(
            def_, config, mapping, (opt_.dry_run ? SP_OPEN_DRY_RUN : 0u) | (opt_.test_events ? SP_OPEN_TEST_EVENTS : 0u));
        sp_instance *raw = nullptr;
        sp_error *err = nullptr;
        if (plugin_->entry().open(&p, host_.get(), &raw, &err) != SP_OK) {
            PluginError e = take_error(*plugin_, err, "open failed");
            throw CliError(exit_code_for(e.category), e.message);
        }
        instance_ = std::make_unique<Instance>(plugin_, raw);
        // A plugin of ABI minor 0 gets batches as a minor-0 host builds them (only inserts and
        // adds reach it: definition checks refuse the other modes).
        with_operations_ = plugin_->entry().abi_minor >= 1;
        if (opt_.dry_run)
            dry_run_ = static_cast<const sp_ext_dry_run *>(plugin_->entry().get_extension(SP_EXT_DRY_RUN));
        // Keep the destination busy while the next rows are read, when the plugin offers it.
        auto *pw = static_cast<const sp_ext_pipelined_write *>(plugin_->entry().get_extension(SP_EXT_PIPELINED_WRITE));
        if (pw && pw->struct_size >= sizeof(sp_ext_pipelined_write) && pw->max_pending > 1 && !opt_.dry_run) pipelined_ = pw;
    }

    // Modes that send deletions read the model's keys once before anything is sent, so that a
    // run that would delete more than the allowed share of what was delivered (an empty or broken
    // model is the classic accident) stops before it sends anything.
    void guard_departures() {
        if (keys_.needs_seen_marks()) {
            std::unique_ptr<RowSource> keys = open_source(def_.source);
            const size_t pk_col = result_column(keys->columns(), def_.primary_key, "the primary_key");
            std::vector<sp_value> cells;
            std::string pk;
            while (!stop_.load() && keys->next(cells))
                if (key_text(cells[pk_col], pk)) keys_.mark_seen(pk);
        }
        const uint64_t known = keys_.count_known();
        const uint64_t departing = keys_.count_departed();
        if (known == 0 || departing == 0 || opt_.allow_mass_delete) return;
        const double percent = 100.0 * static_cast<double>(departing) / static_cast<double>(known);
        if (percent <= def_.max_delete_percent) return;
        char share[96];
        std::snprintf(share, sizeof share, "%.1f%%), more than max_delete_percent (%g%%)", percent,
                      def_.max_delete_percent);
        const std::string what = std::string(def_.audience ? "remove " : "delete ") + std::to_string(departing) +
                                 " of the " + std::to_string(known) +
                                 (def_.audience ? " members (" : " delivered keys (") + share;
        // A dry run is how a user looks before leaping: it shows the deletions and says where a
        // real run would stop.
        if (opt_.dry_run) {
            log_.warn("a real run would stop here: it would " + what + "; see --allow-mass-delete");
            return;
        }
        throw CliError(kExitConfig, "this run would " + what +
                                        "; nothing was sent. If the model is right, run again with "
                                        "--allow-mass-delete, or raise \"max_delete_percent\" in the sync definition");
    }

    // The source: the model query as written (newest_first already applied), or wrapped so that
    // the source leaves out what was delivered: PostgreSQL, when the keys live beside the model
    // (each row then carries what the table knows of its key, in the columns beside_ reads), or
    // SQLite in insert mode, reading the local state attached beside the model.
    std::unique_ptr<RowSource> open_model() {
        SourceConfig config = def_.source;
        if (keys_.beside()) {
            config.query = keys_.source()->diff_query(rule_, hashed_columns(def_));
        } else if (local_diff()) {
            // The wrapper names the primary key: a column the query lacks would read as an error
            // of the wrapper. SQLite prepares without reading a row, so the check costs nothing.
            require_model_columns(def_, open_source(def_.source)->columns());
            config.attach_state = state_.file();
            config.query = sqlite_diff_query();
        } else {
            return open_source(config);
        }
        if (!def_.newest_first.empty()) config.query = newest_first_query(config.query, def_.newest_first);
        std::unique_ptr<RowSource> source = open_source(config);
        if (!keys_.beside()) return source;
        const auto &cols = source->columns();
        beside_.prev = result_column(cols, kPrevHashColumn, "the state's");
        beside_.generation = result_column(cols, kGenerationColumn, "the state's");
        beside_.active = result_column(cols, kActiveColumn, "the state's");
        beside_.hash = result_column(cols, kHashColumn, "the state's");
        return source;
    }

    // Insert mode on a SQLite model with keys delivered before leaves those to SQLite. Other
    // modes still read every row (unchanged audience members are marked seen; changes are found
    // by hash).
    bool local_diff() const {
        return def_.source.type == "sqlite" && lookups_ && !def_.audience && !rule_.tracks_changes() &&
               !rule_.sends_departures();
    }
    std::string sqlite_diff_query() const {
        const std::string key = "synchost_key(m." + quote_sql_identifier(def_.primary_key) + ")";
        return "SELECT m.* FROM (" + as_subquery(def_.source.written_query) +
               "\n) AS m WHERE NOT EXISTS (SELECT 1 FROM synchost_state.delivered AS d WHERE d.pk = " + key +
               ") AND NOT EXISTS (SELECT 1 FROM synchost_state.rows AS r WHERE r.pk = " + key + " AND r.state = 1)";
    }

    void read_and_send() {
        // Only mapped columns travel to the plugin.
        const std::vector<std::string> names = mapped_columns(def_);
        // A first run (empty state) needs no per-row lookups: nothing was delivered before, and
        // keys repeated within this run are caught when their row is checkpointed.
        lookups_ = state_.has_rows();
        source_ = open_model();
        const auto &cols = source_->columns();
        const size_t pk_col = result_column(cols, def_.primary_key, "the primary_key");
        // SQLite takes an unknown "column" in ORDER BY for a string: it would sort by nothing.
        if (!def_.newest_first.empty()) result_column(cols, def_.newest_first, "the newest_first");
        for (const auto &n : names) mapped_.push_back(result_column(cols, n, "the mapped"));
        hashed_ = mapped_;
        if (std::find(hashed_.begin(), hashed_.end(), pk_col) == hashed_.end()) hashed_.push_back(pk_col);
        batch_.set_columns(names);
        progress_.set_total(source_->estimated_rows());
        routes_ = RouteCounts::find(plugin_->descriptor(), def_, cols);

        batch_size_ = def_.batch_size ? def_.batch_size
                      : plugin_->descriptor().recommended_batch_records
                          ? plugin_->descriptor().recommended_batch_records
                          : 1000;
        std::vector<sp_value> cells;
        std::string pk;
        Decision d;
        while (!stopping() && source_->next(cells)) {
            ++summary_.rows_read;
            if (!key_text(cells[pk_col], pk)) {
                row_error("", "primary key \"" + def_.primary_key + "\" is NULL");
                continue;
            }
            if (rule_.sends_departures() && keys_.needs_seen_marks()) keys_.mark_seen(pk);
            // The set of in-flight keys is far larger than the L1 cache and probed at random: the
            // key's slot is loaded while the row is decided and copied into the batch, and the row
            // taken out again in the rare case its key is in flight.
            const uint64_t kh = key_hash(pk);
            unsettled_.prefetch(kh);
            const uint64_t hash = keys_.beside() ? beside_.read(cells) : row_hash(cells, hashed_);
            decide(pk, hash, d);
            if (d.act == Act::track) track(pk, hash);
            if (d.act != Act::send) continue;
            batch_.begin_row(d.record_key, d.op, d.previous);
            for (size_t c : mapped_) batch_.add_value(cells[c]);
            if (unsettled(pk, kh)) {
                batch_.drop_last_row();
                row_error(pk, "duplicate primary key in the query result; only its first row is sent");
                continue;
            }
            queue(pk, hash, kh, d, routes_ ? routes_->value_of(cells) : std::string());
            if (opt_.limit && summary_.sent + batch_.rows() >= opt_.limit) break;
        }
        const bool read_all = !stopping() && !(opt_.limit && summary_.sent + batch_.rows() >= opt_.limit);
        if (read_all && rule_.on_departed == Act::send) send_departures();
        finish_sending();
        const bool complete = read_all && !stopping();
        if (complete && rule_.on_departed == Act::track && records_outcomes()) {
            summary_.departed = keys_.mark_departures(summary_.id);
            if (summary_.departed)
                log_.info(std::to_string(summary_.departed) + " members left the audience; in " + def_.mode +
                          " mode they are recorded as departed and nothing is sent for them");
        }
        if (!complete && stop_.load() && !fatal_) interrupted_ = true;
    }

    void queue(const std::string &pk, uint64_t hash, uint64_t kh, const Decision &d, std::string route) {
        pending_.push_back({pk, hash, kh, summary_.rows_read, d.op, d.replaces, std::move(route)});
        unsettled_.insert(kh);
        if (batch_.rows() >= batch_size_) send_batch();
    }

    // The keys the model no longer holds: a DELETE (or REMOVE) each, with NULL cells.
    void send_departures() {
        for (DepartedKey &k : keys_.departed()) {
            if (stopping()) return;
            const std::string record_key = def_.audience ? k.pk + "#" + std::to_string(k.generation) : k.pk;
            const uint64_t kh = key_hash(k.pk);
            batch_.begin_row(record_key, rule_.op_departed, k.hash ? k.hash : 1);
            for (size_t c = 0; c < mapped_.size(); ++c) batch_.add_null();
            pending_.push_back({std::move(k.pk), k.hash, kh, 0, rule_.op_departed, true, {}});
            unsettled_.insert(kh);
            if (batch_.rows() >= batch_size_) send_batch();
        }
    }

    void finish_sending() {
        if (batch_.rows() > 0 && !fatal_) send_batch();
        while (!submitted_.empty()) collect_one();
        commit_tracked();
        if (!fatal_) {
            sp_error *err = nullptr;
            if (plugin_->entry().flush(instance_->raw(), &err) != SP_OK) {
                PluginError e = take_error(*plugin_, err, "flush failed");
                fail(exit_code_for(e.category), e.message);
            }
        }
    }

    bool stopping() const { return fatal_ || stop_.load(); }

    // Whether what the destination answers is recorded as the rows' state. Not for a dry run
    // (nothing is sent) nor for test events (the destination validates them and keeps nothing):
    // a real run must still send every row.
    bool records_outcomes() const { return !opt_.dry_run && !opt_.test_events; }

    // The row's case (new, changed, unchanged) as far as the state knows (keys of rows sent but
    // not yet checkpointed are checked by the caller), and what the mode does with it.
    void decide(const std::string &pk, uint64_t hash, Decision &d) {
        d = Decision{};
        d.record_key = pk;
        RowCase c = RowCase::new_key;
        std::optional<KnownRow> k;
        if (def_.audience) {
            MemberState m{false, 0, 0};  // generation 0: never a member
            if (keys_.beside()) m = beside_.member();
            else if (lookups_)
                if (std::optional<MemberState> found = state_.member(pk)) m = *found;
            if (m.active) {
                c = rule_.tracks_changes() && m.hash != hash ? RowCase::changed : RowCase::unchanged;
                d.previous = m.hash ? m.hash : 1;
                d.replaces = true;
            }
            // Each membership is its own record: a member who returns is a new event.
            d.record_key = pk + "#" + std::to_string(m.generation + (c == RowCase::new_key ? 1 : 0));
            d.act = rule_.act(c);
            if (m.active && d.act != Act::send) member_updates_.emplace_back(pk, MemberUpdate::seen);
            if (d.act == Act::send) k = lookups_ ? state_.lookup(pk, true) : std::nullopt;  // its rejections
        } else {
            k = lookups_ ? state_.lookup(pk, rule_.tracks_changes() || keys_.beside()) : std::nullopt;
            if (keys_.beside() && beside_.known) {  // delivered, as the table beside the model says
                if (!k) k.emplace();
                k->delivered = KnownRow::Delivery{0, beside_.prev_hash};
            }
            if (k && k->written_by(summary_.id) && records_outcomes()) {
                row_error(pk, "duplicate primary key in the query result; only its first row is sent");
                d.act = Act::skip;
                return;
            }
            if (k && k->delivered) {
                const uint64_t was = k->delivered->hash;
                c = !rule_.tracks_changes() || was == hash ? RowCase::unchanged : RowCase::changed;
                d.previous = was ? was : 1;  // 0 would say "never delivered"
                d.replaces = true;
            }
            d.act = rule_.act(c);
        }
        if (c == RowCase::new_key) d.previous = 0;
        d.op = rule_.operation(c);
        // A rejected row is not sent again unchanged (unless asked).
        if (d.act == Act::send && k && k->attempt && k->attempt->state == RowState::rejected &&
            k->attempt->hash == hash && !opt_.retry_rejected)
            d.act = Act::skip;
        if (d.act == Act::skip) ++summary_.skipped;
    }

    // Recorded without being sent: audience remove mode's members.
    void track(const std::string &pk, uint64_t hash) {
        ++summary_.tracked;
        if (!records_outcomes()) return;
        if (def_.audience) {
            tracked_members_.emplace_back(pk, MemberUpdate::joined, hash);
        } else {
            RowUpdate u{pk, RowState::delivered, "", hash, "", ""};
            u.keep_hash = true;
            tracked_rows_.push_back(std::move(u));
        }
        if (tracked_rows_.size() + tracked_members_.size() >= batch_size_) commit_tracked();
    }

    void commit_tracked() {
        if (tracked_rows_.empty() && tracked_members_.empty()) return;
        for (size_t i : keys_.commit(summary_, tracked_rows_, tracked_members_, {})) {
            --summary_.tracked;
            row_error(tracked_rows_[i].pk, "duplicate primary key in the query result; only its first row counts");
        }
        tracked_rows_.clear();
        tracked_members_.clear();
    }

    void settle_key(const Pending &p) {
        unsettled_.erase_one(p.key_hash);  // one, not every key with this hash
    }

    // Whether `pk` is in a batch sent but not yet checkpointed. The hash set answers "no" at
    // once; a hash hit is confirmed against the keys themselves.
    bool unsettled(const std::string &pk, uint64_t kh) const {
        if (!unsettled_.contains(kh)) return false;
        for (const auto &p : pending_)
            if (p.pk == pk) return true;
        for (const auto &batch : submitted_)
            for (const auto &p : batch)
                if (p.pk == pk) return true;
        return false;
    }

    void row_error(const std::string &pk, const std::string &reason) {
        ++summary_.row_errors;
        row_errors_.push_back({summary_.rows_read, pk, reason});
        if (summary_.row_errors <= 10) log_.warn("row " + std::to_string(summary_.rows_read) + ": " + reason);
        else if (summary_.row_errors == 11) log_.warn("more row errors: see `synchost status`");
    }

    void send_batch() {
        const sp_batch *b = batch_.finish(with_operations_);
        summary_.sent += b->record_count;
        if (pipelined_) {
            sp_error *err = nullptr;
            if (pipelined_->submit(instance_->raw(), b, &err) != SP_OK) {
                // Not taken: nothing of it was delivered; the rows go again next run.
                PluginError e = take_error(*plugin_, err, "submit failed");
                summary_.retry += b->record_count;
                for (const auto &p : pending_) {
                    settle_key(p);
                    if (routes_) routes_->count(p.route, SP_RECORD_RETRY);
                }
                reset_batch();
                fatal_ = true;
                fail(exit_code_for(e.category), e.message);
                return;
            }
            submitted_.push_back(std::move(pending_));
            pending_ = spare_pending();
            reset_batch();
            if (submitted_.size() >= pipelined_->max_pending) collect_one();
            return;
        }
        sp_write_result wr{};
        wr.struct_size = sizeof wr;
        sp_error *err = nullptr;
        const sp_status st = plugin_->entry().write_batch(instance_->raw(), b, &wr, &err);
        PluginError failure;
        if (st != SP_OK) failure = take_error(*plugin_, err, "write_batch failed");
        if (st == SP_OK) {  // the durability barrier before the checkpoint
            err = nullptr;
            if (plugin_->entry().flush(instance_->raw(), &err) != SP_OK) failure = take_error(*plugin_, err, "flush failed");
        }
        if (opt_.dry_run && dry_run_ && opt_.bodies) {
            uint32_t n = 0;
            const char *const *bodies = dry_run_->requests(instance_->raw(), &n);
            for (uint32_t i = 0; i < n; ++i) *opt_.bodies << bodies[i] << "\n";
        }
        // Without the durability barrier, an acknowledgement is not a delivery: such rows go again
        // (with the same event ids).
        settle(wr, pending_, failure, /*acknowledged=*/st == SP_OK && failure.category == SP_ERR_NONE);
        reset_batch();
    }

    void collect_one() {
        std::vector<Pending> rows = std::move(submitted_.front());
        submitted_.pop_front();
        sp_write_result wr{};
        wr.struct_size = sizeof wr;
        sp_error *err = nullptr;
        PluginError failure;
        if (pipelined_->collect(instance_->raw(), &wr, &err) != SP_OK) failure = take_error(*plugin_, err, "collect failed");
        settle(wr, rows, failure, /*acknowledged=*/true);  // collected results are durable (sp.pipelined_write/1)
        rows.clear();
        spare_pending_.push_back(std::move(rows));
    }

    // A batch's results are in: record them and checkpoint. Records reported OK count as delivered
    // only when `durable` (the plugin's flush, or collect, vouched for them).
    void settle(const sp_write_result &wr, const std::vector<Pending> &rows, const PluginError &failure, bool durable) {
        if (wr.record_count != rows.size())  // the ABI promises one result per record
            throw std::runtime_error("plugin returned " + std::to_string(wr.record_count) + " results for " +
                                     std::to_string(rows.size()) + " records");
        record_results(wr, rows, durable);
        if (routes_) summary_.routes = routes_->json();
        std::vector<size_t> repeated;
        if (records_outcomes()) repeated = keys_.commit(summary_, row_updates_, member_updates_, row_errors_);
        else if (opt_.test_events) state_.commit(summary_, {}, {}, row_errors_);  // the run's own record
        std::vector<std::string> repeated_keys;
        for (size_t i : repeated) {
            // Sent again with the same event id, which Pinterest deduplicates; its first outcome
            // stands, and the repeat is reported as what it is.
            const RowUpdate &u = row_updates_[i];
            --(u.state == RowState::delivered ? summary_.delivered
               : u.state == RowState::rejected ? summary_.rejected
                                                : summary_.retry);
            if (routes_) routes_->count(*update_routes_[i], update_statuses_[i], -1);
            repeated_keys.push_back(u.pk);
        }
        for (const auto &p : rows) settle_key(p);
        row_updates_.clear();
        update_routes_.clear();
        update_statuses_.clear();
        member_updates_.clear();
        row_errors_.clear();
        if (routes_ && !repeated.empty()) summary_.routes = routes_->json();  // recorded with the next checkpoint
        for (const auto &pk : repeated_keys)  // recorded with the next checkpoint
            row_error(pk, "duplicate primary key in the query result; its first row was sent, and the repeat "
                          "carried the same event id");
        progress_.update(counts());
        if (failure.category != SP_ERR_NONE) {
            fatal_ = true;
            fail(exit_code_for(failure.category), failure.message);
        }
    }

    // A batch's row list from one collected earlier, with its capacity: a list grown anew for each
    // batch reallocated and moved its rows a dozen times.
    std::vector<Pending> spare_pending() {
        if (spare_pending_.empty()) return {};
        std::vector<Pending> rows = std::move(spare_pending_.back());
        spare_pending_.pop_back();
        return rows;
    }

    void reset_batch() {
        pending_.clear();
        batch_.clear();
    }

    void record_results(const sp_write_result &wr, const std::vector<Pending> &rows, bool durable) {
        for (uint32_t i = 0; i < wr.record_count; ++i) {
            const sp_record_result *r = sp_result_at(&wr, i);
            const Pending &p = rows[i];
            RowUpdate u{p.pk, RowState::pending, "", p.hash, "", ""};
            const uint32_t status = r->status == SP_RECORD_OK && !durable ? uint32_t{SP_RECORD_RETRY} : r->status;
            // The event id is kept for rows that may be sent again (a delivered row's is derived
            // from its key anyway).
            if (status != SP_RECORD_OK && r->event_id) u.event_id = r->event_id;
            switch (status) {
            case SP_RECORD_OK:
                ++summary_.delivered;
                if (p.op < 4) ++summary_.by_operation[p.op];
                if (p.op == SP_OP_DELETE) {
                    u.state = RowState::gone;
                    ++summary_.departed;
                } else if (p.op == SP_OP_REMOVE) {
                    member_updates_.emplace_back(p.pk, MemberUpdate::left);
                    ++summary_.departed;
                } else if (def_.audience) {
                    member_updates_.emplace_back(p.pk, p.replaces ? MemberUpdate::changed : MemberUpdate::joined, p.hash);
                } else {
                    u.state = RowState::delivered;
                    u.keep_hash = rule_.tracks_changes();
                    u.replaces = p.replaces;
                }
                break;
            case SP_RECORD_REJECTED:
                ++summary_.rejected;
                u.state = RowState::rejected;
                u.reason = r->message ? r->message : "rejected";
                u.field = r->field ? r->field : "";
                // What the destination said of a test event is kept with the test run.
                if (opt_.test_events) row_errors_.push_back({p.position, p.pk, "test event rejected: " + u.reason});
                break;
            default:
                ++summary_.retry;
                u.reason = r->message && r->status != SP_RECORD_OK ? r->message : "to be retried";
                break;
            }
            if (routes_) routes_->count(p.route, status);
            // Audience members live in the members table; only their failures are rows.
            if (status == SP_RECORD_OK && (p.op == SP_OP_REMOVE || def_.audience)) continue;
            row_updates_.push_back(std::move(u));
            update_routes_.push_back(&p.route);
            update_statuses_.push_back(status);
        }
    }

    ProgressCounts counts() const {
        return {summary_.rows_read, summary_.skipped, summary_.sent, summary_.delivered,
                summary_.rejected,  summary_.retry,   summary_.row_errors};
    }

    void fail(int code, const std::string &message) {
        if (exit_code_ != kExitOk) return;  // keep the first cause
        exit_code_ = code;
        error_ = message;
        fatal_ = true;
    }

    RunOutcome finish() {
        if (exit_code_ == kExitOk) {
            if (interrupted_) exit_code_ = kExitInterrupted, error_ = "interrupted; the next run continues from here";
            else if (summary_.retry) exit_code_ = kExitTransient, error_ = std::to_string(summary_.retry) + " rows could not be delivered this time; the next run sends them again";
            else if (summary_.rejected || summary_.row_errors) exit_code_ = kExitRejectedRows;
        }
        summary_.finished_at = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        summary_.exit_code = exit_code_;
        summary_.status = exit_code_ == kExitOk               ? "succeeded"
                          : exit_code_ == kExitRejectedRows   ? "succeeded with rejected rows"
                          : exit_code_ == kExitInterrupted    ? "interrupted"
                                                              : "failed";
        summary_.message = error_;
        record_quality();
        if (!opt_.dry_run) {
            try {
                if (!row_errors_.empty()) state_.commit(summary_, {}, {}, row_errors_);
                state_.finish_run(summary_);
            } catch (const std::exception &e) {
                log_.error(std::string("could not record the run: ") + e.what());
                if (summary_.exit_code == kExitOk) summary_.exit_code = exit_code_ = kExitConfig;
            }
        }
        progress_.finish(counts());
        if (instance_) instance_->close();
        return {summary_, exit_code_, error_};
    }

    // What the plugin says about the match quality and freshness of what it sent (sp.quality/1):
    // kept with the run, and compared with the last run that has one. A run that sent nothing
    // has nothing to say.
    void record_quality() {
        if (!instance_ || summary_.sent == 0) return;
        try {
            std::optional<QualityReport> q = read_quality(*plugin_, instance_->raw());
            if (!q || q->events() == 0) return;
            summary_.quality = to_json_text(*q);
            if (const std::string late = late_warning(*q); !late.empty()) log_.warn(late);
            for (const RunSummary &before : state_.runs_with_quality(1))
                for (const std::string &drop : coverage_drops(quality_from_json(before.quality), *q, before.id))
                    log_.warn(drop);
        } catch (const std::exception &e) {
            log_.warn(std::string("no match-quality figures for this run: ") + e.what());
        }
    }

    const SyncDefinition &def_;
    std::shared_ptr<Plugin> plugin_;
    StateStore &state_;
    HostServices &services_;
    Logger &log_;
    Progress &progress_;
    const RunOptions &opt_;
    const std::atomic<bool> &stop_;
    const ModeRule &rule_;
    StopAwareHost host_;  // outlives instance_, which the plugin may call it from
    SyncState keys_;

    // What the table beside the model says of the current row (the diff query's own columns).
    struct BesideRow {
        size_t prev = 0, generation = 0, active = 0, hash = 0;  // column indexes
        bool known = false, is_active = false;  // the key is in the table; (audiences) as a member
        uint64_t prev_hash = 0;
        int64_t gen = 0;
        // Reads the current row's state columns; returns the row's hash (computed by the database).
        uint64_t read(const std::vector<sp_value> &cells) {
            known = cells[prev].type != SP_VALUE_NULL;
            prev_hash = known ? static_cast<uint64_t>(cells[prev].as.i) : 0;
            gen = cells[generation].type == SP_VALUE_NULL ? 0 : cells[generation].as.i;
            is_active = cells[active].type != SP_VALUE_NULL && cells[active].as.i != 0;
            return static_cast<uint64_t>(cells[hash].as.i);
        }
        MemberState member() const { return {known && is_active, gen, prev_hash}; }
    } beside_;

    std::unique_ptr<Instance> instance_;
    const sp_ext_dry_run *dry_run_ = nullptr;
    std::unique_ptr<RowSource> source_;
    std::vector<size_t> mapped_, hashed_;
    std::optional<RouteCounts> routes_;  // counts per routing value, when a routing field is mapped
    // Beside row_updates_: each update's routing value and status, to take back a repeated key's.
    std::vector<const std::string *> update_routes_;
    std::vector<uint32_t> update_statuses_;
    support::BatchBuilder batch_;
    const sp_ext_pipelined_write *pipelined_ = nullptr;
    std::vector<Pending> pending_;                 // rows of the batch being built
    std::vector<std::vector<Pending>> spare_pending_;  // collected batches' row lists, for reuse
    size_t batch_size_ = 1000;
    bool with_operations_ = true;
    std::vector<RowUpdate> tracked_rows_;          // recorded without sending, not yet committed
    std::vector<MemberUpdate> tracked_members_;
    std::deque<std::vector<Pending>> submitted_;   // rows of batches submitted, not yet collected
    HashMultiset unsettled_;  // key hashes of unsettled rows
    std::vector<RowUpdate> row_updates_;
    std::vector<MemberUpdate> member_updates_;
    std::vector<RowError> row_errors_;
    RunSummary summary_;
    bool fatal_ = false, interrupted_ = false, lookups_ = true;
    int exit_code_ = kExitOk;
    std::string error_;
};

}  // namespace

RunOutcome run_sync(const SyncDefinition &def, const std::shared_ptr<Plugin> &plugin, StateStore &state,
                    HostServices &services, Logger &log, Progress &progress, const RunOptions &opt,
                    const std::atomic<bool> &stop, SourceState *beside) {
    return Run(def, plugin, state, beside, services, log, progress, opt, stop).execute();
}

}  // namespace synchost
