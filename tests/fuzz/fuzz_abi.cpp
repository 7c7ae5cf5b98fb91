// fuzz_abi: sequences of C ABI calls on the plugin's entry table, as a careless or hostile host
// would make them. entry.cpp is compiled into this binary over the static core (no dlopen), so
// ASan/UBSan/LSan see every instruction of the plugin.
//
// The input is a small program: a list of operations (describe, get_extension, check, open,
// write_batch, flush, close, double close, write after close, destroy, dry-run requests,
// error_destroy(NULL), and submit/collect of sp.pipelined_write/1 when the plugin offers it) with
// random arguments: configs of random keys and values, NULL pointers and short struct_size fields
// where the ABI allows them, random modes and flags (always with SP_OPEN_DRY_RUN, so nothing
// touches the network; check() always gets host == NULL for the same reason), batches of random
// typed cells, zero-length batches, NULL column arrays, mismatched column names. Instances left
// open are destroyed at the end, so LeakSanitizer sees what the plugin keeps.
//
// Invariants: calls return errors, never crash; SP_FAILED comes with an error object when
// out_error is given, and its message is non-empty, valid UTF-8 and never contains a config value
// marked as a canary; write_batch fills exactly record_count results (status OK/REJECTED/RETRY,
// counts that add up, messages valid UTF-8, fields and ids NUL-terminated); after close every
// write fails with all records RETRY; get_extension returns non-NULL only for the exact ids;
// dry-run request bodies parse as JSON with <= 1000 events.
#include "fuzz_common.hpp"

#include <syncplugin/syncplugin.h>

#include <boost/json.hpp>

#include <array>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

extern "C" const sp_entry *sp_get_entry(uint32_t host_abi_major);

namespace {

constexpr const char *kTarget = "fuzz_abi";
constexpr const char *kCanary = "CANARY-7f3a-never-echo";  // marks config values that must not be echoed
constexpr size_t kMaxInstances = 3;

[[noreturn]] void finding(const std::string &what) { fuzz::finding(kTarget, what); }

// False while a call's host-provided names (config keys, field and column names, sync id) include
// invalid UTF-8: the plugin echoes unknown keys and field names in messages (names are not
// secrets), so messages are required to be valid UTF-8 only when those names are. Cell values are
// never echoed, so they do not matter here.
bool g_names_utf8 = true;
// Canary values in this call's config (they must never be echoed), unless a name carries the
// canary text itself (then an echoed name would look like a leak).
bool g_value_canary = false;
bool g_name_canary = false;
bool canary_leak(const char *text) {
    return g_value_canary && !g_name_canary && text != nullptr && std::strstr(text, kCanary) != nullptr;
}

const std::array<const char *, 16> kConfigKeys = {
    "ad_account_id", "conversion_tag_id", "test_events", "default_phone_country_code", "list_delimiter",
    "event_time_max_age_days", "event_time_max_future_seconds", "api_base_url", "ca_file", "max_in_flight",
    "calls_per_minute", "retry_max_elapsed_seconds", "retry_initial_backoff_ms", "retry_max_backoff_ms",
    "request_timeout_seconds", "max_request_bytes"};

const std::array<const char *, 14> kFields = {"event_name", "email", "hashed_email", "phone", "event_time",
                                              "event_id", "value", "currency", "order_id", "content_ids",
                                              "contents", "num_items", "client_ip_address", "client_user_agent"};

const std::array<const char *, 8> kColumns = {"event_name", "email", "phone", "total", "currency",
                                              "order_id", "created_at", "skus"};

// Host services the plugin may call during a dry run: they check what they are handed.
void host_log(void *, sp_log_level level, const char *message) {
    if (level > SP_LOG_ERROR) finding("log level out of range");
    if (message == nullptr) finding("log message is NULL");
    if (g_names_utf8 && !fuzz::valid_utf8(message)) finding("log message is not valid UTF-8");
    if (canary_leak(message)) finding(std::string("log echoes a config value: ") + message);
}
int64_t host_now(void *) { return int64_t{1795000000} * 1000; }
int host_cancelled(void *) { return 0; }
sp_credential_status host_token(void *, uint32_t, const char *, char *out, uint32_t cap, uint32_t *len, char *msg,
                                uint32_t msg_cap) {
    if (out && cap) out[0] = '\0';
    if (len) *len = 0;
    if (msg && msg_cap) msg[0] = '\0';
    return SP_CRED_NONE;
}
void host_metric(void *, const char *name, double) {
    if (name == nullptr) finding("metric name is NULL");
}
const void *host_extension(void *, const char *) { return nullptr; }

const sp_host kFullHost = {sizeof(sp_host), nullptr, host_log, host_now, host_cancelled, host_token, host_metric,
                           host_extension};
const sp_host kEmptyHost = {sizeof(sp_host), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
const sp_host kShortHost = {offsetof(sp_host, log), nullptr, host_log, host_now, nullptr, nullptr, nullptr, nullptr};

const sp_host *pick_host(FuzzedDataProvider &fdp) {
    switch (fdp.ConsumeIntegral<uint8_t>() % 4) {
    case 0: return nullptr;
    case 1: return &kEmptyHost;
    case 2: return &kShortHost;
    default: return &kFullHost;
    }
}

// Everything one call's arguments point into, kept alive for the call.
struct Scratch {
    std::deque<std::string> text;
    std::deque<sp_config_entry> config_entries;
    std::vector<const sp_config_entry *> config_ptrs;
    sp_config config{};
    std::deque<sp_value> constants;
    std::deque<sp_mapping_entry> mapping_entries;
    std::vector<const sp_mapping_entry *> mapping_ptrs;
    sp_mapping mapping{};
    std::vector<const char *> column_ptrs;
    std::vector<sp_value> values;
    std::vector<const char *> keys;
    sp_batch batch{};
    fuzz::CellArena arena;

    // A host-provided name (key, field, column, sync id).
    const char *keep(std::string s) {
        if (!fuzz::valid_utf8(s)) g_names_utf8 = false;
        if (s.find(kCanary) != std::string::npos) g_name_canary = true;
        text.push_back(std::move(s));
        return text.back().c_str();
    }
    // A config value.
    const char *keep_value(std::string s) {
        text.push_back(std::move(s));
        return text.back().c_str();
    }

    const sp_config *make_config(FuzzedDataProvider &fdp) {
        const uint8_t shape = fdp.ConsumeIntegral<uint8_t>();
        if (shape % 16 == 0) return nullptr;
        config_entries.clear();
        config_ptrs.clear();
        const bool valid_base = shape & 16;  // start from a config that opens
        if (valid_base) {
            config_entries.push_back({sizeof(sp_config_entry), "ad_account_id", "549755885175"});
        }
        for (int n = fdp.ConsumeIntegralInRange<int>(0, 6); n > 0; --n) {
            const uint8_t k = fdp.ConsumeIntegral<uint8_t>();
            const char *key = (k & 0x80) ? keep(fdp.ConsumeRandomLengthString(24))
                                         : (k % 23 == 22 ? nullptr : kConfigKeys[k % kConfigKeys.size()]);
            const uint8_t vk = fdp.ConsumeIntegral<uint8_t>() % 8;
            const char *value = nullptr;
            if (vk == 0) value = nullptr;
            else if (vk == 1) {
                value = keep_value(std::string(kCanary) + fdp.ConsumeRandomLengthString(8));
                g_value_canary = true;
            } else value = keep_value(fdp.ConsumeRandomLengthString(40));
            if (key != nullptr && std::strcmp(key, "api_base_url") == 0 && value != nullptr)
                value = keep_value("https://127.0.0.1:1");  // dry runs send nothing, but never aim elsewhere
            config_entries.push_back({static_cast<uint32_t>(fdp.ConsumeBool() ? sizeof(sp_config_entry) : 0), key,
                                      value});
        }
        for (auto &e : config_entries) config_ptrs.push_back(shape % 16 == 1 ? nullptr : &e);
        config = {sizeof(sp_config), static_cast<uint32_t>(config_ptrs.size()),
                  shape % 16 == 2 ? nullptr : config_ptrs.data()};
        if (shape % 16 == 2 && config.entry_count == 0) config.entry_count = 1;  // count without an array
        return &config;
    }

    const sp_mapping *make_mapping(FuzzedDataProvider &fdp) {
        const uint8_t shape = fdp.ConsumeIntegral<uint8_t>();
        if (shape % 16 == 0) return nullptr;
        mapping_entries.clear();
        mapping_ptrs.clear();
        constants.clear();
        if (shape & 16) {  // a mapping that satisfies the required rules
            mapping_entries.push_back({sizeof(sp_mapping_entry), "event_name", "event_name", nullptr});
            mapping_entries.push_back({sizeof(sp_mapping_entry), "email", "email", nullptr});
        }
        for (int n = fdp.ConsumeIntegralInRange<int>(0, 6); n > 0; --n) {
            const uint8_t f = fdp.ConsumeIntegral<uint8_t>();
            const char *field = (f & 0x80) ? keep(fdp.ConsumeRandomLengthString(24))
                                           : (f % 31 == 30 ? nullptr : kFields[f % kFields.size()]);
            sp_mapping_entry e{sizeof(sp_mapping_entry), field, nullptr, nullptr};
            const uint8_t src = fdp.ConsumeIntegral<uint8_t>() % 6;
            if (src <= 2) e.source_column = kColumns[fdp.ConsumeIntegral<uint8_t>() % kColumns.size()];
            else if (src == 3) e.source_column = keep(fdp.ConsumeRandomLengthString(16));
            else if (src == 4) {
                constants.push_back(fuzz::random_cell(fdp, arena, 64));
                e.constant = &constants.back();
            }  // 5: neither
            if (fdp.ConsumeIntegral<uint8_t>() % 16 == 0 && e.constant == nullptr) {
                constants.push_back(fuzz::random_cell(fdp, arena, 64));
                e.constant = &constants.back();  // both
            }
            mapping_entries.push_back(e);
        }
        for (auto &e : mapping_entries) mapping_ptrs.push_back(shape % 16 == 1 ? nullptr : &e);
        mapping = {sizeof(sp_mapping), static_cast<uint32_t>(mapping_ptrs.size()),
                   shape % 16 == 2 ? nullptr : mapping_ptrs.data()};
        if (shape % 16 == 2 && mapping.entry_count == 0) mapping.entry_count = 1;
        return &mapping;
    }

    // A batch: random columns (mostly the ones the valid mapping uses), random cells, and the
    // malformed shapes a host might produce.
    const sp_batch *make_batch(FuzzedDataProvider &fdp) {
        const uint8_t shape = fdp.ConsumeIntegral<uint8_t>();
        if (shape % 32 == 0) return nullptr;
        column_ptrs.clear();
        values.clear();
        keys.clear();
        const uint32_t columns = fdp.ConsumeIntegralInRange<uint32_t>(0, 6);
        for (uint32_t c = 0; c < columns; ++c) {
            const uint8_t k = fdp.ConsumeIntegral<uint8_t>();
            column_ptrs.push_back((k & 0x80) ? keep(fdp.ConsumeRandomLengthString(16)) : kColumns[k % kColumns.size()]);
        }
        const uint32_t rows = (shape % 32 == 1) ? 0 : fdp.ConsumeIntegralInRange<uint32_t>(0, 40);
        for (uint32_t r = 0; r < rows; ++r) {
            keys.push_back(fdp.ConsumeIntegral<uint8_t>() % 8 == 0 ? nullptr : keep("k" + std::to_string(r)));
            for (uint32_t c = 0; c < columns; ++c) values.push_back(fuzz::random_cell(fdp, arena, 96));
        }
        batch = {sizeof(sp_batch), columns, column_ptrs.data(), rows, values.data(), keys.data()};
        switch (shape % 32) {
        case 2: batch.column_names = nullptr; break;                                    // NULL columns
        case 3: batch.values = nullptr; break;                                          // no cells
        case 4: batch.record_keys = nullptr; break;                                     // keys may be NULL
        case 5: batch.struct_size = offsetof(sp_batch, record_keys); break;             // an older host
        case 6: batch.struct_size = fdp.ConsumeIntegralInRange<uint32_t>(0, offsetof(sp_batch, values)); break;
        case 7: batch.record_count = rows ? rows : 0; batch.column_count = columns; break;
        default: break;
        }
        return &batch;
    }
};

struct Slot {
    sp_instance *inst = nullptr;
    bool closed = false;
    bool dry_run = true;
    unsigned pending = 0;  // pipelined batches submitted, not collected
    bool names_utf8 = true;  // the names given at open (mapping columns) were valid UTF-8
    bool value_canary = false, name_canary = false;  // as at open
};

void check_error(const sp_entry *e, sp_status st, sp_error *err, bool wanted_error, const Scratch &,
                 const char *call) {
    if (st != SP_OK && st != SP_FAILED) finding(std::string(call) + ": status " + std::to_string(st));
    if (st == SP_OK && err != nullptr) finding(std::string(call) + ": SP_OK with an error object");
    if (st == SP_FAILED && wanted_error && err == nullptr) finding(std::string(call) + ": SP_FAILED without an error");
    if (err == nullptr) return;
    const sp_error_category cat = e->error_category(err);
    if (cat < SP_ERR_CONFIG || cat > SP_ERR_UNSUPPORTED) finding(std::string(call) + ": category " + std::to_string(cat));
    (void)e->error_code(err);
    const char *msg = e->error_message(err);
    if (msg == nullptr || *msg == '\0') finding(std::string(call) + ": empty error message");
    if (g_names_utf8 && !fuzz::valid_utf8(msg)) finding(std::string(call) + ": error message is not valid UTF-8");
    if (canary_leak(msg)) finding(std::string(call) + ": error message echoes a config value: " + msg);
    e->error_destroy(err);
}

void check_results(const sp_write_result &wr, const sp_batch *b, sp_status st, bool closed, const char *call) {
    const std::string c(call);
    const bool batch_ok = b != nullptr && b->struct_size >= offsetof(sp_batch, record_keys);
    if (batch_ok && wr.record_count != b->record_count && wr.record_count != 0)
        finding(c + ": " + std::to_string(wr.record_count) + " results for " + std::to_string(b->record_count) + " records");
    if (batch_ok && st == SP_OK && wr.record_count != b->record_count) finding(c + ": SP_OK with a result count mismatch");
    if (wr.record_count == 0) return;
    if (wr.results == nullptr) finding(c + ": results is NULL");
    if (wr.result_stride < offsetof(sp_record_result, event_id) + sizeof(const char *)) finding(c + ": stride too small");
    uint32_t counts[3] = {0, 0, 0};
    for (uint32_t i = 0; i < wr.record_count; ++i) {
        const sp_record_result *r = sp_result_at(&wr, i);
        if (r->status > SP_RECORD_RETRY) finding(c + ": result status " + std::to_string(r->status));
        ++counts[r->status];
        if (closed && r->status != SP_RECORD_RETRY) finding(c + ": result after close is not RETRY");
        if (r->status == SP_RECORD_OK && r->category != SP_ERR_NONE) finding(c + ": OK result with a category");
        if (r->status != SP_RECORD_OK && (r->category < SP_ERR_CONFIG || r->category > SP_ERR_UNSUPPORTED))
            finding(c + ": failed result with category " + std::to_string(r->category));
        if (r->status == SP_RECORD_REJECTED && (r->message == nullptr || *r->message == '\0'))
            finding(c + ": rejected result without a reason");
        if (r->message && g_names_utf8 && !fuzz::valid_utf8(r->message))
            finding(c + ": result message is not valid UTF-8");
        if (canary_leak(r->message)) finding(c + ": result message echoes a config value");
        if (r->field) (void)std::strlen(r->field);
        if (r->event_id && !fuzz::valid_utf8(r->event_id)) finding(c + ": event id is not valid UTF-8");
    }
    if (counts[0] != wr.ok_count || counts[1] != wr.rejected_count || counts[2] != wr.retry_count)
        finding(c + ": ok/rejected/retry counts do not add up");
    if (closed && st == SP_OK) finding(c + ": SP_OK after close");
}

void check_dry_run(const sp_entry *e, sp_instance *inst, FuzzedDataProvider &fdp) {
    const auto *ext = static_cast<const sp_ext_dry_run *>(e->get_extension(SP_EXT_DRY_RUN));
    if (ext == nullptr) finding("no sp.dry_run/1");
    uint32_t count = 12345;
    const bool null_count = fdp.ConsumeIntegral<uint8_t>() % 8 == 0;
    const char *const *bodies = ext->requests(fdp.ConsumeIntegral<uint8_t>() % 16 == 0 ? nullptr : inst,
                                              null_count ? nullptr : &count);
    if (null_count || bodies == nullptr) return;
    for (uint32_t i = 0; i < count; ++i) {
        if (bodies[i] == nullptr) finding("dry-run body is NULL");
        boost::json::error_code ec;
        auto v = boost::json::parse(bodies[i], ec);
        if (ec) finding("dry-run body is not JSON: " + ec.message());
        const auto *o = v.if_object();
        const auto *data = o ? o->if_contains("data") : nullptr;
        if (data == nullptr || !data->is_array() || data->get_array().empty() || data->get_array().size() > 1000)
            finding("dry-run body is not {\"data\":[1..1000 events]}");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider fdp(data, size);
    const sp_entry *e = sp_get_entry(SP_ABI_MAJOR);
    if (e == nullptr || e->abi_major != SP_ABI_MAJOR) finding("sp_get_entry(SP_ABI_MAJOR) failed");
    const uint32_t other = fdp.ConsumeIntegral<uint32_t>();
    if (other != SP_ABI_MAJOR && sp_get_entry(other) != nullptr) finding("sp_get_entry accepted another major");

    std::vector<Slot> slots;
    for (int step = 0; step < 24 && fdp.remaining_bytes() > 0; ++step) {
        Scratch s;
        g_names_utf8 = true;
        g_value_canary = g_name_canary = false;
        const uint8_t op = fdp.ConsumeIntegral<uint8_t>() % 14;
        sp_error *err = nullptr;
        const bool want_err = fdp.ConsumeIntegral<uint8_t>() % 8 != 0;  // sometimes out_error == NULL
        sp_error **errp = want_err ? &err : nullptr;
        Slot *slot = slots.empty() ? nullptr : &slots[fdp.ConsumeIntegralInRange<size_t>(0, slots.size() - 1)];
        if (slot && !slot->names_utf8) g_names_utf8 = false;
        if (slot) g_value_canary = slot->value_canary, g_name_canary = slot->name_canary;
        switch (op) {
        case 0: {  // describe: same pointer every time, manifest present
            const sp_descriptor *d = e->describe();
            if (d == nullptr || d != e->describe() || d->manifest_json == nullptr) finding("describe() unstable or NULL");
            break;
        }
        case 1: {  // get_extension with exact, near-miss, random and NULL ids
            std::string id;
            const uint8_t k = fdp.ConsumeIntegral<uint8_t>() % 5;
            if (k == 0) id = SP_EXT_DRY_RUN;
            else if (k == 1) id = std::string(SP_EXT_DRY_RUN) + fdp.ConsumeRandomLengthString(4);
            else id = fdp.ConsumeRandomLengthString(32);
            const void *x = e->get_extension(k == 4 ? nullptr : id.c_str());
            const std::string seen(id.c_str());  // what a C caller passes: up to the first NUL
            bool known = seen == SP_EXT_DRY_RUN;
#ifdef SP_EXT_PIPELINED_WRITE
            known = known || seen == SP_EXT_PIPELINED_WRITE;
#endif
            if (k == 4 && x != nullptr) finding("get_extension(NULL) is not NULL");
            if (k != 4 && (x != nullptr) != known) finding("get_extension(\"" + id + "\") wrong");
            break;
        }
        case 2: {  // check, offline only (host NULL)
            const sp_status st = e->check(s.make_config(fdp), nullptr, errp);
            check_error(e, st, err, want_err, s, "check");
            break;
        }
        case 3:
        case 4: {  // open (always a dry run)
            sp_open_params p{};
            p.struct_size = sizeof p;
            const uint8_t kind = fdp.ConsumeIntegral<uint8_t>();
            p.target_kind = kind % 8 < 6 ? SP_TARGET_SYNC : (kind % 8 == 6 ? SP_TARGET_AUDIENCE : kind);
            p.sync_mode = fdp.ConsumeBool() ? SP_SYNC_INSERT : fdp.ConsumeIntegral<uint8_t>();
            p.audience_mode = fdp.ConsumeBool() ? SP_AUDIENCE_ADD : fdp.ConsumeIntegral<uint8_t>();
            p.config = s.make_config(fdp);
            p.mapping = s.make_mapping(fdp);
            p.sync_id = fdp.ConsumeBool() ? nullptr : s.keep(fdp.ConsumeRandomLengthString(24));
            p.flags = SP_OPEN_DRY_RUN | (fdp.ConsumeIntegral<uint32_t>() & ~SP_OPEN_DRY_RUN);
            const uint8_t ps = fdp.ConsumeIntegral<uint8_t>() % 16;
            if (ps == 0) p.struct_size = fdp.ConsumeIntegralInRange<uint32_t>(0, sizeof p);
            const bool null_params = ps == 1, null_out = ps == 2;
            sp_instance *inst = reinterpret_cast<sp_instance *>(uintptr_t{0x1});
            const sp_host *host = pick_host(fdp);
            const sp_status st = e->open(null_params ? nullptr : &p, host, null_out ? nullptr : &inst, errp);
            check_error(e, st, err, want_err, s, "open");
            if (null_out) break;
            if (st == SP_OK) {
                if (inst == nullptr) finding("open: SP_OK without an instance");
                if (!(p.flags & SP_OPEN_DRY_RUN) && p.struct_size > offsetof(sp_open_params, flags))
                    finding("open: not a dry run");
                // A short struct_size hides flags: the plugin then sees no DRY_RUN flag and would
                // build a real transport; such an instance is destroyed without writing.
                const bool dry = p.struct_size >= offsetof(sp_open_params, flags) + sizeof p.flags;
                if (slots.size() < kMaxInstances) slots.push_back({inst, false, dry, 0, g_names_utf8, g_value_canary, g_name_canary});
                else e->destroy(inst);
            } else if (inst != nullptr && inst != reinterpret_cast<sp_instance *>(uintptr_t{0x1})) {
                finding("open: SP_FAILED but an instance was returned");
            }
            break;
        }
        case 5:
        case 6:
        case 7: {  // write_batch (also after close, NULL instance, NULL out)
            if (slot && !slot->dry_run) break;
            sp_write_result wr{};
            wr.struct_size = sizeof wr;
            const uint8_t w = fdp.ConsumeIntegral<uint8_t>() % 16;
            if (w == 0) wr.struct_size = offsetof(sp_write_result, ok_count);  // an older host
            const sp_batch *b = s.make_batch(fdp);
            sp_instance *inst = (slot == nullptr || w == 1) ? nullptr : slot->inst;
            if (slot && slot->pending) break;  // the pipelined contract: collect first
            const sp_status st = e->write_batch(inst, b, w == 2 ? nullptr : &wr, errp);
            check_error(e, st, err, want_err, s, "write_batch");
            if (w == 2) {
                if (st != SP_FAILED) finding("write_batch with out == NULL did not fail");
                break;
            }
            if (inst == nullptr) {
                if (st != SP_FAILED || wr.record_count != 0) finding("write_batch(NULL instance) did not fail cleanly");
                break;
            }
            if (wr.struct_size == sizeof wr) check_results(wr, b, st, slot->closed, "write_batch");
            if (st == SP_OK && fdp.ConsumeBool()) check_dry_run(e, inst, fdp);
            break;
        }
        case 8: {  // flush
            if (slot && slot->pending) break;
            const sp_status st = e->flush(slot ? slot->inst : nullptr, errp);
            check_error(e, st, err, want_err, s, "flush");
            if ((slot == nullptr || slot->closed) && st == SP_OK) finding("flush succeeded on NULL or closed instance");
            break;
        }
        case 9: {  // close (twice sometimes), close(NULL)
            if (slot == nullptr || fdp.ConsumeIntegral<uint8_t>() % 8 == 0) {
                e->close(nullptr);
                break;
            }
            e->close(slot->inst);
            if (fdp.ConsumeBool()) e->close(slot->inst);
            slot->closed = true;
            slot->pending = 0;
            break;
        }
        case 10: {  // destroy, destroy(NULL), error_destroy(NULL)
            e->destroy(nullptr);
            e->error_destroy(nullptr);
            if (slot == nullptr) break;
            e->destroy(slot->inst);
            slots.erase(slots.begin() + (slot - slots.data()));
            break;
        }
        case 11: {  // dry-run requests on any instance
            if (slot == nullptr || !slot->dry_run) break;
            check_dry_run(e, slot->inst, fdp);
            break;
        }
        case 12:
        case 13: {  // sp.pipelined_write/1: submit and collect
#ifdef SP_EXT_PIPELINED_WRITE
            const auto *pw = static_cast<const sp_ext_pipelined_write *>(e->get_extension(SP_EXT_PIPELINED_WRITE));
            if (pw == nullptr || slot == nullptr || !slot->dry_run) break;
            if (op == 12 || slot->pending == 0) {
                const sp_batch *b = s.make_batch(fdp);
                const sp_status st = pw->submit(slot->inst, b, errp);
                check_error(e, st, err, want_err, s, "submit");
                if (st == SP_OK) {
                    if (slot->closed) finding("submit succeeded after close");
                    if (++slot->pending > pw->max_pending) finding("submit accepted more than max_pending batches");
                }
            } else {
                sp_write_result wr{};
                wr.struct_size = sizeof wr;
                const sp_status st = pw->collect(slot->inst, &wr, errp);
                check_error(e, st, err, want_err, s, "collect");
                --slot->pending;
                if (wr.record_count) check_results(wr, nullptr, st, false, "collect");
            }
#endif
            break;
        }
        default: break;
        }
    }
    for (auto &sl : slots) e->destroy(sl.inst);
    return 0;
}
