#include "plugin/instance.hpp"

#include "plugin/manifest.hpp"

#include <syncplugin/syncplugin.hpp>

#include <support/suggest.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>

#ifdef PCAPI_HAVE_TRANSPORT
#include "transport/event_quality.hpp"
#include "transport/https_delivery.hpp"
#endif

namespace pcapi {

namespace {

// Refuses a target the manifest does not declare, in the words a user will search for.
void check_target(const sp_open_params &p, const spmanifest::Manifest &m) {
    auto single_bit = [](uint32_t v) { return v != 0 && (v & (v - 1)) == 0; };
    if (p.target_kind == SP_TARGET_SYNC) {
        if (!single_bit(p.sync_mode) || (p.sync_mode & m.sync_modes) == 0)
            throw sp::failure(SP_ERR_UNSUPPORTED, m.id + " supports sync mode " +
                                                      support::join(spmanifest::sync_mode_names(m.sync_modes)) + " only");
    } else if (p.target_kind == SP_TARGET_AUDIENCE) {
        if (!single_bit(p.audience_mode) || (p.audience_mode & m.audience_modes) == 0)
            throw sp::failure(SP_ERR_UNSUPPORTED, m.id + " supports audience sync mode " +
                                                      support::join(spmanifest::audience_mode_names(m.audience_modes)) + " only");
    } else {
        throw sp::failure(SP_ERR_UNSUPPORTED, "unknown target kind " + std::to_string(p.target_kind));
    }
}

}  // namespace

Instance::Instance(const sp_open_params &params, const sp_host *host) : host_(host) {
    const spmanifest::Manifest &m = manifest();
    check_target(params, m);
    config_ = parse_config(params.config);
    for (const auto &k : config_.unknown_keys) log(SP_LOG_WARN, "ignoring unknown config key \"" + k + "\"");

    std::vector<RequiredRule> rules;
    for (const auto &r : m.required) rules.push_back({r.any_of});
    Mapping mapping = Mapping::compile(params.mapping, rules);

    PipelineOptions opt = pipeline_options();
    opt.default_phone_country_code = config_.default_phone_country_code;
    opt.list_delimiter = config_.list_delimiter;
    opt.ldp_states = config_.ldp_states;
    opt.max_age_seconds = config_.event_time_max_age_days * 86400;
    opt.max_future_seconds = config_.event_time_max_future_seconds;
    opt.sync_id = params.sync_id ? params.sync_id : "";
    opt.configured_account = config_.ad_account_id;  // canonical already (parse_config)
    pipeline_ = std::make_unique<Pipeline>(std::move(mapping), std::move(opt), m.max_batch_records,
                                           static_cast<size_t>(config_.max_request_bytes));
    const bool audience = params.target_kind == SP_TARGET_AUDIENCE;
    pipeline_->accept_only(audience ? SP_OP_ADD : SP_OP_UPSERT, audience);

    const bool test_events = config_.test_events || (params.flags & SP_OPEN_TEST_EVENTS) != 0;
    if (params.flags & SP_OPEN_DRY_RUN) {
        dry_run_ = true;
        delivery_ = std::make_unique<NullDelivery>();
        return;
    }
#ifdef PCAPI_HAVE_TRANSPORT
    delivery_ = make_https_delivery(config_, test_events, host_);
#else
    (void)test_events;
    throw sp::failure(SP_ERR_UNSUPPORTED, "this build has no HTTPS transport; open with SP_OPEN_DRY_RUN");
#endif
}

Instance::~Instance() { close(); }

void Instance::log(sp_log_level level, const std::string &message) const {
    if (host_ && SP_HAS_FIELD(host_, sp_host, log) && host_->log) host_->log(host_->ctx, level, message.c_str());
}

int64_t Instance::now_unix_seconds() const {
    if (host_ && SP_HAS_FIELD(host_, sp_host, now_unix_ms) && host_->now_unix_ms)
        return host_->now_unix_ms(host_->ctx) / 1000;
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void Instance::fill_all_retry(uint32_t n, sp_write_result &out, sp_error_category category,
                              const std::string &message) {
    results_.assign(n, sp_record_result{});
    messages_.assign(1, message);
    ids_.clear();
    for (auto &r : results_) {
        r.struct_size = sizeof r;
        r.status = SP_RECORD_RETRY;
        r.category = category;
        r.message = messages_[0].c_str();
    }
    publish_counts(out, 0);
}

void Instance::publish_counts(sp_write_result &out, uint64_t retry_after_ms) {
    uint32_t counts[3] = {0, 0, 0};
    for (const auto &r : results_) ++counts[r.status];
    out.record_count = static_cast<uint32_t>(results_.size());
    out.result_stride = sizeof(sp_record_result);
    out.results = results_.data();
    if (SP_HAS_FIELD(&out, sp_write_result, retry_count)) {
        out.ok_count = counts[SP_RECORD_OK];
        out.rejected_count = counts[SP_RECORD_REJECTED];
        out.retry_count = counts[SP_RECORD_RETRY];
    }
    if (SP_HAS_FIELD(&out, sp_write_result, retry_after_ms)) out.retry_after_ms = retry_after_ms;
}

sp_status Instance::write_batch(const sp_batch &batch, sp_write_result &out, sp_error **err) {
    if (!in_flight_.empty()) {
        fill_all_retry(batch.record_count, out, SP_ERR_INTERNAL, "batches are pending");
        return sp::fail(err, SP_ERR_INTERNAL, "write_batch while submitted batches are not collected");
    }
    sp_error *submit_err = nullptr;
    if (submit(batch, &submit_err) != SP_OK) {
        const std::string msg = submit_err ? submit_err->message : "submit failed";
        const sp_error_category cat = submit_err ? submit_err->category : SP_ERR_INTERNAL;
        const int32_t code = submit_err ? submit_err->code : 0;
        sp::error_destroy(submit_err);
        fill_all_retry(batch.record_count, out, cat, msg);
        return sp::fail(err, cat, msg, code);
    }
    return collect(out, err);
}

sp_status Instance::submit(const sp_batch &batch, sp_error **err) {
    if (closed_) return sp::fail(err, SP_ERR_INTERNAL, "write after close");
    if (failed_) return sp::fail(err, SP_ERR_INTERNAL, "an earlier batch failed: " + failure_);
    if (in_flight_.size() >= kMaxPending)
        return sp::fail(err, SP_ERR_INTERNAL, "collect a batch before submitting more than " +
                                                  std::to_string(kMaxPending));
    std::unique_ptr<InFlight> f;
    if (spare_.empty()) {
        f = std::make_unique<InFlight>();
    } else {
        f = std::move(spare_.back());
        spare_.pop_back();
        f->done = false;
    }
    try {
        pipeline_->encode(batch, now_unix_seconds(), f->encoded);
        if (f->encoded.ldp_events && host_ && SP_HAS_FIELD(host_, sp_host, metric_add) && host_->metric_add)
            host_->metric_add(host_->ctx, "pinterest.ldp_events", f->encoded.ldp_events);
    } catch (const sp::failure &e) {
        spare_.push_back(std::move(f));
        return sp::fail(err, e.category(), e.what(), e.code());
    }
    InFlight *raw = f.get();
    {
        std::lock_guard lock(mu_);
        in_flight_.push_back(std::move(f));
    }
    delivery_->start(raw->encoded.payloads, raw->report, [this, raw] {
        std::lock_guard lock(mu_);
        raw->done = true;
        cv_.notify_all();
    });
    return SP_OK;
}

sp_status Instance::collect(sp_write_result &out, sp_error **err) {
    {
        std::unique_lock lock(mu_);
        if (in_flight_.empty()) {
            results_.clear();
            publish_counts(out, 0);
            return sp::fail(err, SP_ERR_INTERNAL, "collect with nothing submitted");
        }
        cv_.wait(lock, [this] { return in_flight_.front()->done; });
        if (collected_) spare_.push_back(std::move(collected_));
        collected_ = std::move(in_flight_.front());
        in_flight_.pop_front();
    }
    return publish(*collected_, out, err);
}

sp_status Instance::publish(const InFlight &f, sp_write_result &out, sp_error **err) {
    const EncodedBatch &encoded = f.encoded;
    const DeliveryReport &report = f.report;
    const auto n = static_cast<uint32_t>(encoded.records.size());
    // Which delivery outcome belongs to which record.
    std::vector<const EventOutcome *> outcome(n, nullptr);
    for (size_t p = 0; p < encoded.payloads.size(); ++p)
        for (size_t i = 0; i < encoded.payloads[p].items.size(); ++i)
            outcome[encoded.payloads[p].items[i].record] = &report.outcomes[p][i];

    results_.assign(n, sp_record_result{});
    messages_.clear();
    std::vector<std::pair<uint32_t, uint32_t>> message_of;  // (record, index in messages_)
    ids_.clear();
    std::vector<uint32_t> id_offsets(n);
    for (uint32_t r = 0; r < n; ++r) {
        id_offsets[r] = static_cast<uint32_t>(ids_.size());
        ids_.append(encoded.event_id(r));
        ids_.push_back('\0');
        sp_record_result &res = results_[r];
        res.struct_size = sizeof res;
        const auto &rec = encoded.records[r];
        if (rec.rejected) {
            res.status = SP_RECORD_REJECTED;
            res.category = rec.category;
            res.field = rec.field == Field::count_ ? nullptr : field_info(rec.field).name.data();
            message_of.emplace_back(r, static_cast<uint32_t>(messages_.size()));
            messages_.push_back(encoded.messages[rec.message]);
            continue;
        }
        const EventOutcome *o = outcome[r];
        res.status = o ? o->status : SP_RECORD_RETRY;
        res.category = o ? o->category : SP_ERR_INTERNAL;
        res.code = o ? o->code : 0;
        if (o == nullptr || !o->message.empty()) {
            message_of.emplace_back(r, static_cast<uint32_t>(messages_.size()));
            messages_.push_back(o ? o->message : "no delivery outcome");
        }
    }
    for (auto [r, m] : message_of) results_[r].message = messages_[m].c_str();
    // Match quality counts what reached Pinterest: delivered, or refused by it; not what waits for
    // a retry.
    MatchQuality &quality = pipeline_->quality();
    for (const EncodedBatch::Counted &c : encoded.counted)
        if (results_[c.record].status != SP_RECORD_RETRY) quality.count_in(c.group, c.components, c.age_s);
    for (uint32_t r = 0; r < n; ++r)
        if (encoded.records[r].id_len) results_[r].event_id = ids_.data() + id_offsets[r];
    publish_counts(out, report.retry_after_ms);

    if (report.fatal_category != SP_ERR_NONE) {
        failed_ = true;
        failure_ = report.fatal_message;
        return sp::fail(err, report.fatal_category, report.fatal_message, report.fatal_code);
    }
    return SP_OK;
}

sp_status Instance::flush(sp_error **err) {
    if (closed_) return sp::fail(err, SP_ERR_INTERNAL, "flush after close");
    // Every collected batch is final: collect returns only once each event has its outcome.
    if (!in_flight_.empty())
        return sp::fail(err, SP_ERR_INTERNAL, "collect every submitted batch before flush");
    return SP_OK;
}

void Instance::close() {
    if (closed_) return;
    closed_ = true;
    if (delivery_) delivery_->close();
}

void Instance::quality_report(sp_quality_report &out) {
    const MatchQuality &q = pipeline_->quality();
    group_names_.clear();
    group_events_.clear();
    coverage_.clear();
    for (const auto &g : q.groups()) {
        if (g.events == 0) continue;  // found for events that were never sent
        group_names_.push_back(g.name.c_str());
        group_events_.push_back(g.events);
        for (size_t c = 0; c < kComponentCount; ++c) coverage_.push_back(g.with(c));
    }
    // Every field this plugin knows, each written only where the host's struct_size has room.
    sp_quality_report r{};
    r.struct_size = out.struct_size;
    r.component_count = static_cast<uint32_t>(kComponentCount);
    r.components = component_names().data();
    r.group_count = static_cast<uint32_t>(group_names_.size());
    r.groups = group_names_.data();
    r.group_events = group_events_.data();
    r.coverage = coverage_.data();
    r.aged_events = q.ages().count();
    r.age_p50_ms = static_cast<uint64_t>(q.ages().percentile(0.50)) * 1000;
    r.age_p95_ms = static_cast<uint64_t>(q.ages().percentile(0.95)) * 1000;
    r.age_max_ms = static_cast<uint64_t>(q.ages().max()) * 1000;
    r.late_after_ms = MatchQuality::kLateAfterSeconds * 1000;
    r.late_events = q.late_events();
    r.late_meaning = "counted by Pinterest as offline conversions, which are not deduplicated against the tag";
    age_bounds_ms_.clear();
    for (int64_t b : MatchQuality::kAgeBounds)
        age_bounds_ms_.push_back(b == MatchQuality::kAgeBounds.back() ? UINT64_MAX : static_cast<uint64_t>(b) * 1000);
    r.age_bucket_count = static_cast<uint32_t>(age_bounds_ms_.size());
    r.age_bucket_le_ms = age_bounds_ms_.data();
    r.age_bucket_events = q.age_buckets().data();
    std::memcpy(&out, &r, std::min<size_t>(out.struct_size, sizeof r));
}

const char *Instance::destination_report() {
    if (dry_run_) throw sp::failure(SP_ERR_UNSUPPORTED, "a dry run reads nothing from Pinterest");
#ifdef PCAPI_HAVE_TRANSPORT
    destination_report_ = fetch_event_quality(config_, host_);
    return destination_report_.c_str();
#else
    throw sp::failure(SP_ERR_UNSUPPORTED, "this build has no HTTPS transport");
#endif
}

const char *const *Instance::dry_run_requests(uint32_t *count) {
    dry_run_ptrs_.clear();
    if (dry_run_ && collected_)
        for (const auto &p : collected_->encoded.payloads) dry_run_ptrs_.push_back(p.body.c_str());
    if (count) *count = static_cast<uint32_t>(dry_run_ptrs_.size());
    return dry_run_ptrs_.data();
}

}  // namespace pcapi
