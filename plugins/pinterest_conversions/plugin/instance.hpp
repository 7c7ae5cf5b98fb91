// One opened destination connection (what the ABI calls sp_instance): validated config, compiled
// mapping, pipeline and delivery, the batches in flight, and the result storage the ABI lends to
// the host. Batches go through submit() (encode, start delivery in the background) and collect()
// (wait for the oldest, publish its results); write_batch is the two in a row.
#pragma once

#include "plugin/config.hpp"
#include "plugin/delivery.hpp"
#include "pipeline/pipeline.hpp"

#include <syncplugin/syncplugin.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pcapi {

class Instance {
public:
    // Batches the host may have submitted and not collected: with 4, the next batch is already
    // queued when one completes, so the connection pool never idles while the host reads rows.
    static constexpr uint32_t kMaxPending = 4;

    // Throws sp::failure: SP_ERR_UNSUPPORTED for modes the manifest does not declare,
    // SP_ERR_CONFIG for bad config or mapping.
    Instance(const sp_open_params &params, const sp_host *host);
    ~Instance();

    sp_status write_batch(const sp_batch &batch, sp_write_result &out, sp_error **err);
    sp_status submit(const sp_batch &batch, sp_error **err);
    sp_status collect(sp_write_result &out, sp_error **err);
    sp_status flush(sp_error **err);
    void close();

    // sp.quality/1: what was sent so far (no I/O), and Pinterest's Event Quality Score (I/O).
    void quality_report(sp_quality_report &out);
    const char *destination_report();

    // Bodies prepared for the last collected batch of a dry-run instance.
    const char *const *dry_run_requests(uint32_t *count);

    // Fills `out` with `n` RETRY results carrying `message` (for refused or failed writes).
    void fill_all_retry(uint32_t n, sp_write_result &out, sp_error_category category, const std::string &message);

private:
    // A submitted batch: its encoding, its delivery outcomes, and whether delivery is done.
    struct InFlight {
        EncodedBatch encoded;
        DeliveryReport report;
        bool done = false;  // guarded by mu_
    };

    void log(sp_log_level level, const std::string &message) const;
    int64_t now_unix_seconds() const;
    sp_status publish(const InFlight &batch, sp_write_result &out, sp_error **err);
    void publish_counts(sp_write_result &out, uint64_t retry_after_ms);

    const sp_host *host_;
    PluginConfig config_;
    bool dry_run_ = false;
    std::unique_ptr<Pipeline> pipeline_;
    std::unique_ptr<Delivery> delivery_;
    bool closed_ = false;
    bool failed_ = false;  // a collect reported a fatal error: no more submits
    std::string failure_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::unique_ptr<InFlight>> in_flight_;
    std::unique_ptr<InFlight> collected_;  // the last collected batch (its bodies back dry runs)
    std::vector<std::unique_ptr<InFlight>> spare_;  // collected batches, reused with their buffers

    std::vector<sp_record_result> results_;
    std::vector<std::string> messages_;  // result messages for the published batch
    std::string ids_;                    // NUL-separated event ids for the published batch
    std::vector<const char *> dry_run_ptrs_;
    // What quality_report and destination_report lend the host.
    std::vector<const char *> group_names_;
    std::vector<uint64_t> group_events_, coverage_, age_bounds_ms_;
    std::string destination_report_;
};

}  // namespace pcapi
