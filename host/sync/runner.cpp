#include "sync/runner.hpp"

#include "exit_codes.hpp"
#include "sync/hash_multiset.hpp"
#include "sync/row_key.hpp"

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

// The plugin-facing owned mapping (sp_mapping) built from the definition.
class AbiMapping {
public:
    explicit AbiMapping(const std::vector<MappingEntry> &entries) {
        entries_.reserve(entries.size());
        for (const auto &e : entries)
            entries_.push_back({sizeof(sp_mapping_entry), e.destination.c_str(),
                                e.constant ? nullptr : e.column.c_str(), e.constant ? &e.value : nullptr});
        for (const auto &e : entries_) ptrs_.push_back(&e);
        mapping_ = {sizeof(sp_mapping), static_cast<uint32_t>(ptrs_.size()), ptrs_.data()};
    }
    const sp_mapping *get() const { return &mapping_; }

private:
    std::vector<sp_mapping_entry> entries_;
    std::vector<const sp_mapping_entry *> ptrs_;
    sp_mapping mapping_{};
};

class AbiConfig {
public:
    explicit AbiConfig(const std::vector<std::pair<std::string, std::string>> &kv) {
        entries_.reserve(kv.size());
        for (const auto &[k, v] : kv) entries_.push_back({sizeof(sp_config_entry), k.c_str(), v.c_str()});
        for (const auto &e : entries_) ptrs_.push_back(&e);
        config_ = {sizeof(sp_config), static_cast<uint32_t>(ptrs_.size()), ptrs_.data()};
    }
    const sp_config *get() const { return &config_; }

private:
    std::vector<sp_config_entry> entries_;
    std::vector<const sp_config_entry *> ptrs_;
    sp_config config_{};
};

// A row queued for the plugin: what the state needs to know once its result comes back.
struct Pending {
    std::string pk;
    uint64_t hash;
    uint64_t key_hash;  // of pk, for the set of unsettled keys
    bool rejoin;        // audience: a returning member
    uint64_t position;  // 1-based row number in the query result
};

class Run {
public:
    Run(const SyncDefinition &def, const std::shared_ptr<Plugin> &plugin, StateStore &state, HostServices &services,
        Logger &log, Progress &progress, const RunOptions &opt, const std::atomic<bool> &stop)
        : def_(def), plugin_(plugin), state_(state), services_(services), log_(log), progress_(progress), opt_(opt),
          stop_(stop) {}

    RunOutcome execute() {
        if (!opt_.dry_run) state_.use_row_hash(kRowHashVersion);
        summary_ = state_.begin_run(def_.audience ? "audience:" + def_.mode : def_.mode, opt_.dry_run, opt_.test_events);
        try {
            open_instance();
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
        sp_open_params p{};
        p.struct_size = sizeof p;
        p.target_kind = def_.audience ? SP_TARGET_AUDIENCE : SP_TARGET_SYNC;
        p.sync_mode = def_.audience ? 0 : spmanifest::sync_mode_bit(def_.mode);
        p.audience_mode = def_.audience ? spmanifest::audience_mode_bit(def_.mode) : 0;
        p.config = config.get();
        p.mapping = mapping.get();
        p.sync_id = def_.name.c_str();
        p.flags = (opt_.dry_run ? SP_OPEN_DRY_RUN : 0u) | (opt_.test_events ? SP_OPEN_TEST_EVENTS : 0u);
        sp_instance *raw = nullptr;
        sp_error *err = nullptr;
        if (plugin_->entry().open(&p, services_.get(), &raw, &err) != SP_OK) {
            PluginError e = take_error(*plugin_, err, "open failed");
            throw CliError(exit_code_for(e.category), e.message);
        }
        instance_ = std::make_unique<Instance>(plugin_, raw);
        if (opt_.dry_run)
            dry_run_ = static_cast<const sp_ext_dry_run *>(plugin_->entry().get_extension(SP_EXT_DRY_RUN));
        // Keep the destination busy while the next rows are read, when the plugin offers it.
        auto *pw = static_cast<const sp_ext_pipelined_write *>(plugin_->entry().get_extension(SP_EXT_PIPELINED_WRITE));
        if (pw && pw->struct_size >= sizeof(sp_ext_pipelined_write) && pw->max_pending > 1 && !opt_.dry_run) pipelined_ = pw;
    }

    void read_and_send() {
        source_ = open_source(def_.source);
        const auto &cols = source_->columns();
        auto index_of = [&](const std::string &name, const std::string &what) -> size_t {
            for (size_t i = 0; i < cols.size(); ++i)
                if (cols[i] == name) return i;
            throw CliError(kExitConfig, what + " column \"" + name + "\" is not in the query result" +
                                            support::did_you_mean(name, cols) + "; its columns are: " + support::join(cols));
        };
        const size_t pk_col = index_of(def_.primary_key, "the primary_key");
        // Only mapped columns travel to the plugin.
        std::vector<std::string> names;
        for (const auto &e : def_.mapping) {
            if (e.constant) continue;
            bool seen = false;
            for (const auto &n : names) seen = seen || n == e.column;
            if (!seen) names.push_back(e.column);
        }
        for (const auto &n : names) mapped_.push_back(index_of(n, "the mapped"));
        hashed_ = mapped_;
        if (std::find(hashed_.begin(), hashed_.end(), pk_col) == hashed_.end()) hashed_.push_back(pk_col);
        batch_.set_columns(names);
        progress_.set_total(source_->estimated_rows());

        const size_t batch_size = def_.batch_size ? def_.batch_size
                                  : plugin_->descriptor().recommended_batch_records
                                      ? plugin_->descriptor().recommended_batch_records
                                      : 1000;
        // A first run (empty state) needs no per-row lookups: nothing was delivered before, and
        // keys repeated within this run are caught when their row is checkpointed.
        lookups_ = state_.has_rows();
        std::vector<sp_value> cells;
        std::string pk, record_key;
        while (!stopping() && source_->next(cells)) {
            ++summary_.rows_read;
            if (!key_text(cells[pk_col], pk)) {
                row_error("", "primary key \"" + def_.primary_key + "\" is NULL");
                continue;
            }
            // The set of in-flight keys is far larger than the L1 cache and probed at random: the
            // key's slot is loaded while the row is decided and copied into the batch, and the row
            // taken out again in the rare case its key is in flight.
            const uint64_t kh = key_hash(pk);
            unsettled_.prefetch(kh);
            uint64_t hash = 0;
            bool rejoin = false;
            if (!decide(pk, cells, record_key, hash, rejoin)) continue;
            batch_.begin_row(record_key);
            for (size_t c : mapped_) batch_.add_value(cells[c]);
            if (unsettled(pk, kh)) {
                batch_.drop_last_row();
                row_error(pk, "duplicate primary key in the query result; only its first row is sent");
                continue;
            }
            pending_.push_back({pk, hash, kh, rejoin, summary_.rows_read});
            unsettled_.insert(kh);
            if (batch_.rows() >= batch_size) send_batch();
            if (opt_.limit && summary_.sent + batch_.rows() >= opt_.limit) break;
        }
        if (batch_.rows() > 0 && !fatal_) send_batch();
        while (!submitted_.empty()) collect_one();
        if (!fatal_) {
            sp_error *err = nullptr;
            if (plugin_->entry().flush(instance_->raw(), &err) != SP_OK) {
                PluginError e = take_error(*plugin_, err, "flush failed");
                fail(exit_code_for(e.category), e.message);
            }
        }
        const bool complete = !stopping() && !fatal_ && !(opt_.limit && summary_.sent >= opt_.limit);
        if (def_.audience && complete && records_outcomes()) {
            summary_.departed = state_.mark_departures(summary_.id);
            if (summary_.departed)
                log_.info(std::to_string(summary_.departed) +
                          " members left the audience; nothing is sent for them (this destination supports add only)");
        }
        if (!complete && stop_.load() && !fatal_) interrupted_ = true;
    }

    bool stopping() const { return fatal_ || stop_.load(); }

    // Whether what the destination answers is recorded as the rows' state. Not for a dry run
    // (nothing is sent) nor for test events (the destination validates them and keeps nothing):
    // a real run must still send every row.
    bool records_outcomes() const { return !opt_.dry_run && !opt_.test_events; }

    // Whether to send this row as far as the state knows (keys of rows sent but not yet
    // checkpointed are checked by the caller); when so, sets the record key (the plugin's
    // event-id seed), the row's content hash and whether it is a returning audience member.
    bool decide(const std::string &pk, const std::vector<sp_value> &cells, std::string &record_key, uint64_t &hash,
                bool &rejoin) {
        hash = row_hash(cells, hashed_);
        auto skip = [] { return false; };
        rejoin = false;
        record_key = pk;
        if (def_.audience) {
            std::optional<MemberState> m = lookups_ ? state_.member(pk) : std::nullopt;
            if (m && m->active) {
                member_updates_.push_back({pk, false});  // still a member: seen this run
                ++summary_.skipped;
                return skip();
            }
            rejoin = m.has_value();
            // A returning member is a new event: its id is seeded with the membership generation.
            record_key = pk + "#" + std::to_string(m ? m->generation + 1 : 1);
        }
        if (std::optional<KnownRow> k = lookups_ ? state_.lookup(pk) : std::nullopt) {
            if (k->run_id == summary_.id && !opt_.dry_run) {
                row_error(pk, "duplicate primary key in the query result; only its first row is sent");
                return skip();
            }
            const bool unchanged_reject = k->state == RowState::rejected && k->hash == hash && !opt_.retry_rejected;
            if ((k->state == RowState::delivered && !def_.audience) || unchanged_reject) {
                ++summary_.skipped;
                return skip();
            }
        }
        return true;
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
        const sp_batch *b = batch_.finish();
        summary_.sent += b->record_count;
        if (pipelined_) {
            sp_error *err = nullptr;
            if (pipelined_->submit(instance_->raw(), b, &err) != SP_OK) {
                // Not taken: nothing of it was delivered; the rows go again next run.
                PluginError e = take_error(*plugin_, err, "submit failed");
                summary_.retry += b->record_count;
                for (const auto &p : pending_) settle_key(p);
                reset_batch();
                fatal_ = true;
                fail(exit_code_for(e.category), e.message);
                return;
            }
            submitted_.push_back(std::move(pending_));
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
    }

    // A batch's results are in: record them and checkpoint. Records reported OK count as delivered
    // only when `durable` (the plugin's flush, or collect, vouched for them).
    void settle(const sp_write_result &wr, const std::vector<Pending> &rows, const PluginError &failure, bool durable) {
        if (wr.record_count != rows.size())  // the ABI promises one result per record
            throw std::runtime_error("plugin returned " + std::to_string(wr.record_count) + " results for " +
                                     std::to_string(rows.size()) + " records");
        record_results(wr, rows, durable);
        std::vector<size_t> repeated;
        if (records_outcomes()) repeated = state_.commit(summary_, row_updates_, member_updates_, row_errors_);
        else if (opt_.test_events) state_.commit(summary_, {}, {}, row_errors_);  // the run's own record
        std::vector<std::string> repeated_keys;
        for (size_t i : repeated) {
            // Sent again with the same event id, which Pinterest deduplicates; its first outcome
            // stands, and the repeat is reported as what it is.
            const RowUpdate &u = row_updates_[i];
            --(u.state == RowState::delivered ? summary_.delivered
               : u.state == RowState::rejected ? summary_.rejected
                                                : summary_.retry);
            repeated_keys.push_back(u.pk);
        }
        for (const auto &p : rows) settle_key(p);
        row_updates_.clear();
        member_updates_.clear();
        row_errors_.clear();
        for (const auto &pk : repeated_keys)  // recorded with the next checkpoint
            row_error(pk, "duplicate primary key in the query result; its first row was sent, and the repeat "
                          "carried the same event id");
        progress_.update(counts());
        if (failure.category != SP_ERR_NONE) {
            fatal_ = true;
            fail(exit_code_for(failure.category), failure.message);
        }
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
                u.state = RowState::delivered;
                if (def_.audience) member_updates_.push_back({p.pk, true});
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
            // Audience members live in the members table; only their rejections are rows.
            if (!def_.audience || u.state != RowState::delivered) row_updates_.push_back(std::move(u));
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

    const SyncDefinition &def_;
    std::shared_ptr<Plugin> plugin_;
    StateStore &state_;
    HostServices &services_;
    Logger &log_;
    Progress &progress_;
    const RunOptions &opt_;
    const std::atomic<bool> &stop_;

    std::unique_ptr<Instance> instance_;
    const sp_ext_dry_run *dry_run_ = nullptr;
    std::unique_ptr<RowSource> source_;
    std::vector<size_t> mapped_, hashed_;
    support::BatchBuilder batch_;
    const sp_ext_pipelined_write *pipelined_ = nullptr;
    std::vector<Pending> pending_;                 // rows of the batch being built
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
                    const std::atomic<bool> &stop) {
    return Run(def, plugin, state, services, log, progress, opt, stop).execute();
}

}  // namespace synchost
