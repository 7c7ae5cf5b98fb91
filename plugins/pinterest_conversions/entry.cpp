// The plugin's only exported symbol, sp_get_entry, and the entry table behind it.
// Every function is wrapped by sp::guard so that no exception ever crosses the C boundary.
#include "plugin/config.hpp"
#include "plugin/instance.hpp"
#include "plugin/manifest.hpp"

#include <syncplugin/syncplugin.hpp>

#include <algorithm>
#include <cstring>

#ifdef PCAPI_HAVE_TRANSPORT
#include "transport/live_check.hpp"
#endif

// The ABI's opaque instance.
struct sp_instance {
    sp_instance(const sp_open_params &params, const sp_host *host) : impl(params, host) {}
    pcapi::Instance impl;
};

namespace {

const sp_descriptor *describe() { return sp::guard_value<const sp_descriptor *>(nullptr, [] { return pcapi::descriptor(); }); }

sp_status check(const sp_config *config, const sp_host *host, sp_error **err) {
    return sp::guard(err, [&] {
        pcapi::PluginConfig c = pcapi::parse_config(config);
#ifdef PCAPI_HAVE_TRANSPORT
        if (host != nullptr) pcapi::live_check(c, host);  // read-only calls; throws with a category
#else
        (void)host;
#endif
        (void)c;
        return SP_OK;
    });
}

sp_status open(const sp_open_params *params, const sp_host *host, sp_instance **out, sp_error **err) {
    return sp::guard(err, [&] {
        if (out == nullptr) return sp::fail(err, SP_ERR_INTERNAL, "open: out_instance is NULL");
        *out = nullptr;
        if (params == nullptr || params->struct_size < offsetof(sp_open_params, flags))
            return sp::fail(err, SP_ERR_INTERNAL, "open: params is NULL or too small for ABI 1.0");
        *out = new sp_instance(*params, host);
        return SP_OK;
    });
}

// The batch as the plugin's C++ side reads it: only the fields this host's struct_size covers.
bool copy_batch(const sp_batch *batch, sp_batch &b, sp_error **err, const char *what) {
    if (batch == nullptr || batch->struct_size < offsetof(sp_batch, record_keys)) {
        sp::fail(err, SP_ERR_INTERNAL, std::string(what) + ": batch is NULL or too small");
        return false;
    }
    const bool values_ok = batch->record_count == 0 || batch->column_count == 0 || batch->values != nullptr;
    const bool names_ok = batch->column_count == 0 || batch->column_names != nullptr;
    if (!values_ok || !names_ok) {
        sp::fail(err, SP_ERR_INTERNAL, std::string(what) + ": batch has records but no values or column names");
        return false;
    }
    b = sp_batch{};
    std::memcpy(&b, batch, std::min<size_t>(batch->struct_size, sizeof b));
    return true;
}

sp_status write_batch(sp_instance *inst, const sp_batch *batch, sp_write_result *out, sp_error **err) {
    return sp::guard(err, [&] {
        if (out == nullptr) return sp::fail(err, SP_ERR_INTERNAL, "write_batch: out is NULL");
        out->record_count = 0;
        out->results = nullptr;
        if (inst == nullptr) return sp::fail(err, SP_ERR_INTERNAL, "write_batch: instance is NULL");
        sp_batch b;
        if (!copy_batch(batch, b, err, "write_batch")) {
            if (batch != nullptr) inst->impl.fill_all_retry(batch->record_count, *out, SP_ERR_INTERNAL, "malformed batch");
            return SP_FAILED;
        }
        return inst->impl.write_batch(b, *out, err);
    });
}

sp_status flush(sp_instance *inst, sp_error **err) {
    return sp::guard(err, [&] {
        if (inst == nullptr) return sp::fail(err, SP_ERR_INTERNAL, "flush: instance is NULL");
        return inst->impl.flush(err);
    });
}

void close(sp_instance *inst) {
    sp::guard(nullptr, [&] {
        if (inst) inst->impl.close();
        return SP_OK;
    });
}

void destroy(sp_instance *inst) {
    sp::guard(nullptr, [&] {
        delete inst;
        return SP_OK;
    });
}

const char *const *dry_run_requests(sp_instance *inst, uint32_t *count) {
    return sp::guard_value<const char *const *>(nullptr, [&]() -> const char *const * {
        if (count) *count = 0;
        return inst ? inst->impl.dry_run_requests(count) : nullptr;
    });
}

sp_status submit(sp_instance *inst, const sp_batch *batch, sp_error **err) {
    return sp::guard(err, [&] {
        if (inst == nullptr) return sp::fail(err, SP_ERR_INTERNAL, "submit: instance is NULL");
        sp_batch b;
        if (!copy_batch(batch, b, err, "submit")) return SP_FAILED;
        return inst->impl.submit(b, err);
    });
}

sp_status collect(sp_instance *inst, sp_write_result *out, sp_error **err) {
    return sp::guard(err, [&] {
        if (inst == nullptr || out == nullptr) return sp::fail(err, SP_ERR_INTERNAL, "collect: instance or out is NULL");
        return inst->impl.collect(*out, err);
    });
}

sp_status quality_report(sp_instance *inst, sp_quality_report *out, sp_error **err) {
    return sp::guard(err, [&] {
        if (inst == nullptr || out == nullptr || out->struct_size < offsetof(sp_quality_report, component_count))
            return sp::fail(err, SP_ERR_INTERNAL, "quality report: instance or out is NULL, or out is too small");
        inst->impl.quality_report(*out);
        return SP_OK;
    });
}

sp_status destination_report(sp_instance *inst, const char **out_json, sp_error **err) {
    return sp::guard(err, [&] {
        if (inst == nullptr || out_json == nullptr)
            return sp::fail(err, SP_ERR_INTERNAL, "destination report: instance or out_json is NULL");
        *out_json = nullptr;
        *out_json = inst->impl.destination_report();
        return SP_OK;
    });
}

const sp_ext_quality kQuality = {sizeof(sp_ext_quality), quality_report, destination_report};
const sp_ext_dry_run kDryRun = {sizeof(sp_ext_dry_run), dry_run_requests};
const sp_ext_pipelined_write kPipelined = {sizeof(sp_ext_pipelined_write), pcapi::Instance::kMaxPending, submit,
                                           collect};

const void *get_extension(const char *id) {
    if (id == nullptr) return nullptr;
    if (std::strcmp(id, SP_EXT_DRY_RUN) == 0) return &kDryRun;
    if (std::strcmp(id, SP_EXT_PIPELINED_WRITE) == 0) return &kPipelined;
    if (std::strcmp(id, SP_EXT_QUALITY) == 0) return &kQuality;
    return nullptr;
}

sp_error_category error_category(const sp_error *e) { return sp::error_category(e); }
int32_t error_code(const sp_error *e) { return sp::error_code(e); }
const char *error_message(const sp_error *e) { return sp::error_message(e); }
void error_destroy(sp_error *e) { sp::error_destroy(e); }

const sp_entry kEntry = {
    sizeof(sp_entry), SP_ABI_MAJOR, SP_ABI_MINOR, 0, "pinterest_conversions",
    describe, get_extension, check, open, write_batch, flush, close, destroy,
    error_category, error_code, error_message, error_destroy,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const sp_entry *sp_get_entry(uint32_t host_abi_major) {
    return host_abi_major == SP_ABI_MAJOR ? &kEntry : nullptr;
}
