// One opened destination connection (what the ABI calls sp_instance): validated config, compiled
// mapping, pipeline and delivery, plus the result storage the ABI lends to the host.
#pragma once

#include "plugin/config.hpp"
#include "plugin/delivery.hpp"
#include "pipeline/pipeline.hpp"

#include <syncplugin/syncplugin.h>

#include <memory>
#include <string>
#include <vector>

namespace pcapi {

class Instance {
public:
    // Throws sp::failure: SP_ERR_UNSUPPORTED for modes the manifest does not declare,
    // SP_ERR_CONFIG for bad config or mapping.
    Instance(const sp_open_params &params, const sp_host *host);
    ~Instance();

    sp_status write_batch(const sp_batch &batch, sp_write_result &out, sp_error **err);
    sp_status flush(sp_error **err);
    void close();
    bool closed() const { return closed_; }

    // Bodies prepared by the last write on a dry-run instance.
    const char *const *dry_run_requests(uint32_t *count);

    // Fills `out` with `n` RETRY results carrying `message` (for refused or failed writes).
    void fill_all_retry(uint32_t n, sp_write_result &out, sp_error_category category, const std::string &message);

private:
    void log(sp_log_level level, const std::string &message) const;
    int64_t now_unix_seconds() const;
    void publish(sp_write_result &out);

    const sp_host *host_;
    PluginConfig config_;
    std::unique_ptr<Pipeline> pipeline_;
    std::unique_ptr<Delivery> delivery_;
    RecordingDelivery *recorder_ = nullptr;  // == delivery_ on dry runs
    bool closed_ = false;

    EncodedBatch encoded_;
    DeliveryReport report_;
    std::vector<sp_record_result> results_;
    std::vector<std::string> messages_;  // result messages for this batch
    std::string ids_;                    // NUL-separated event ids for this batch
    std::vector<const char *> dry_run_ptrs_;
};

}  // namespace pcapi
