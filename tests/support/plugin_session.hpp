// Opens the built plugin through the C ABI the way a host does (via synchost's loader) and
// copies each write's results out, so tests can assert on them after the next call.
#pragma once

#include "abi_objects.hpp"
#include "plugin/loader.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace test_support {

struct RecordOutcome {
    sp_record_status status;
    sp_error_category category;
    std::string message, event_id, field;
};

struct WriteOutcome {
    sp_status status = SP_OK;
    synchost::PluginError error;
    std::vector<RecordOutcome> records;
    uint32_t ok = 0, rejected = 0, retry = 0;
    uint64_t retry_after_ms = 0;
};

class PluginSession {
public:
    PluginSession(const std::string &plugin_path, const Pairs &config, const Pairs &mapping, const sp_host *host,
                  uint32_t flags = 0, const std::string &sync_id = "test-sync",
                  uint32_t target_kind = SP_TARGET_SYNC) {
        plugin_ = synchost::Plugin::load(plugin_path);
        OwnedConfig c(config);
        OwnedMapping m(mapping);
        sp_open_params p{};
        p.struct_size = sizeof p;
        p.target_kind = target_kind;
        p.sync_mode = target_kind == SP_TARGET_SYNC ? SP_SYNC_INSERT : 0;
        p.audience_mode = target_kind == SP_TARGET_AUDIENCE ? SP_AUDIENCE_ADD : 0;
        p.config = c.get();
        p.mapping = m.get();
        p.sync_id = sync_id.c_str();
        p.flags = flags;
        sp_error *err = nullptr;
        sp_instance *raw = nullptr;
        if (plugin_->entry().open(&p, host, &raw, &err) != SP_OK)
            throw std::runtime_error("open failed: " + synchost::take_error(*plugin_, err, "no error").message);
        instance_ = std::make_unique<synchost::Instance>(plugin_, raw);
    }

    WriteOutcome write(const sp_batch *batch) {
        WriteOutcome out;
        sp_write_result wr{};
        wr.struct_size = sizeof wr;
        sp_error *err = nullptr;
        out.status = plugin_->entry().write_batch(instance_->raw(), batch, &wr, &err);
        if (out.status != SP_OK) out.error = synchost::take_error(*plugin_, err, "no error object");
        for (uint32_t i = 0; i < wr.record_count; ++i) {
            const sp_record_result *r = sp_result_at(&wr, i);
            out.records.push_back({static_cast<sp_record_status>(r->status), static_cast<sp_error_category>(r->category),
                                   r->message ? r->message : "", r->event_id ? r->event_id : "",
                                   r->field ? r->field : ""});
        }
        out.ok = wr.ok_count;
        out.rejected = wr.rejected_count;
        out.retry = wr.retry_count;
        out.retry_after_ms = wr.retry_after_ms;
        return out;
    }

    synchost::Plugin &plugin() { return *plugin_; }
    sp_instance *raw() { return instance_->raw(); }

private:
    std::shared_ptr<synchost::Plugin> plugin_;
    std::unique_ptr<synchost::Instance> instance_;
};

}  // namespace test_support
