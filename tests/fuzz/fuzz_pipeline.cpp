// fuzz_pipeline: the plugin's event pipeline (mapping -> normalize -> hash -> JSON -> payloads) on
// rows of random typed cells. Every destination field is mapped, to its own column or (for a few
// fields the input picks) to a typed constant. Two batches go through the same Pipeline, the
// second with its columns in another order, to exercise the per-batch column binding cache.
//
// Invariants (any breach aborts, which libFuzzer records as a crash):
//   - exactly one record entry per input row; each record is either rejected (with a non-empty,
//     valid UTF-8 message) or appears in exactly one payload item, in input order;
//   - every payload body is `{"data":[...]}`, parses as JSON (boost::json::parse rejects invalid
//     UTF-8), has 1..max_events (<= 1000) events and at most max_bytes bytes, and each item's byte
//     range is exactly the corresponding element of "data";
//   - Payload::slice of any range is again such a body;
//   - accepted records have an event id;
//   - bind failures (a batch missing a mapped column) are sp::failure(SP_ERR_CONFIG), nothing else.
#include "fuzz_common.hpp"

#include "pipeline/pipeline.hpp"
#include "plugin/manifest.hpp"

#include <syncplugin/syncplugin.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

using namespace pcapi;

namespace {

constexpr const char *kTarget = "fuzz_pipeline";
constexpr int64_t kNow = 1795000000;
constexpr size_t kMaxRows = 48;

[[noreturn]] void finding(const std::string &what) { fuzz::finding(kTarget, what); }

const std::vector<RequiredRule> &rules() {
    static const std::vector<RequiredRule> r{{{"event_name"}}, {{"email", "hashed_email"}}};
    return r;
}

void check_payload(const Payload &p, size_t max_events, size_t max_bytes, const char *what) {
    const std::string where = std::string(what) + ": ";
    if (p.items.empty()) finding(where + "empty payload");
    if (p.items.size() > max_events || p.items.size() > 1000)
        finding(where + "payload with " + std::to_string(p.items.size()) + " events");
    if (p.body.size() > max_bytes) finding(where + "payload body over max_bytes");
    if (p.body.rfind(Payload::prefix, 0) != 0) finding(where + "body does not start with the prefix");
    if (p.body.size() < Payload::suffix.size() ||
        p.body.compare(p.body.size() - Payload::suffix.size(), Payload::suffix.size(), Payload::suffix) != 0)
        finding(where + "body does not end with the suffix");
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(p.body, ec);
    if (ec) finding(where + "body is not JSON: " + ec.message());
    const boost::json::object *o = v.if_object();
    const boost::json::value *data = o ? o->if_contains("data") : nullptr;
    if (o == nullptr || o->size() != 1 || data == nullptr || !data->is_array())
        finding(where + "body is not {\"data\":[...]}");
    const boost::json::array &a = data->get_array();
    if (a.size() != p.items.size()) finding(where + "data has " + std::to_string(a.size()) + " events, items " +
                                            std::to_string(p.items.size()));
    for (size_t i = 0; i < p.items.size(); ++i) {
        const auto &it = p.items[i];
        if (it.begin >= it.end || it.end > p.body.size()) finding(where + "item byte range out of the body");
        boost::json::value e = boost::json::parse(std::string_view(p.body).substr(it.begin, it.end - it.begin), ec);
        if (ec || !e.is_object()) finding(where + "item is not a JSON object");
        if (e != a[i]) finding(where + "item byte range is not data[" + std::to_string(i) + "]");
        const boost::json::object &ev = e.get_object();
        if (!ev.contains("event_name") || !ev.contains("event_time") || !ev.contains("event_id") ||
            !ev.contains("action_source") || !ev.contains("user_data"))
            finding(where + "event without a required key");
    }
}

void check(const EncodedBatch &out, uint32_t rows, size_t max_events, size_t max_bytes, FuzzedDataProvider &fdp) {
    if (out.records.size() != rows) finding("records.size() != rows");
    std::vector<int> seen(rows, 0);
    int64_t last = -1;
    for (const Payload &p : out.payloads) {
        check_payload(p, max_events, max_bytes, "payload");
        for (const auto &it : p.items) {
            if (it.record >= rows) finding("item names a record out of range");
            if (static_cast<int64_t>(it.record) <= last) finding("items out of input order");
            last = it.record;
            ++seen[it.record];
        }
    }
    for (uint32_t r = 0; r < rows; ++r) {
        const auto &rec = out.records[r];
        if (rec.rejected) {
            if (seen[r] != 0) finding("rejected record " + std::to_string(r) + " is also in a payload");
            if (rec.message >= out.messages.size()) finding("rejection message index out of range");
            const std::string &m = out.messages[rec.message];
            if (m.empty()) finding("empty rejection message");
            if (!fuzz::valid_utf8(m)) finding("rejection message is not valid UTF-8: " + m);
        } else {
            if (seen[r] != 1) finding("accepted record " + std::to_string(r) + " is in " + std::to_string(seen[r]) +
                                      " payload items");
            if (rec.id_len == 0) finding("accepted record without an event id");
        }
        if (static_cast<size_t>(rec.id_begin) + rec.id_len > out.ids.size()) finding("event id out of range");
    }
    if (!out.payloads.empty()) {
        const Payload &p = out.payloads[fdp.ConsumeIntegralInRange<size_t>(0, out.payloads.size() - 1)];
        const size_t first = fdp.ConsumeIntegralInRange<size_t>(0, p.items.size() - 1);
        const size_t last_i = fdp.ConsumeIntegralInRange<size_t>(first + 1, p.items.size());
        check_payload(p.slice(first, last_i), max_events, max_bytes, "slice");
    }
}

// One batch: `columns` names (borrowed), rows of random cells, record keys in some shape.
struct Batch {
    std::vector<std::string> names;
    std::vector<const char *> name_ptrs;
    std::vector<sp_value> values;
    std::vector<const char *> keys;
    std::deque<std::string> key_text;
    sp_batch b{};

    // Columns whose cells are generated; the others are NULL. With all 56 fields mapped, rows
    // of 56 random cells are almost never accepted; a sparse set of live columns (three random
    // masks ANDed, plus event_name, email and event_time) lets rows get through to the payloads.
    std::vector<bool> live;

    const sp_batch &make(FuzzedDataProvider &fdp, fuzz::CellArena &arena, uint32_t rows) {
        const uint64_t mask = fdp.ConsumeIntegral<uint64_t>() & fdp.ConsumeIntegral<uint64_t>() &
                              fdp.ConsumeIntegral<uint64_t>();
        live.assign(names.size(), false);
        for (size_t c = 0; c < names.size(); ++c)
            live[c] = ((mask >> (c % 64)) & 1) != 0 || names[c] == "c_event_name" || names[c] == "c_email" ||
                      names[c] == "c_event_time";
        name_ptrs.clear();
        for (const auto &n : names) name_ptrs.push_back(n.c_str());
        values.clear();
        keys.clear();
        key_text.clear();
        const uint8_t key_mode = fdp.ConsumeIntegral<uint8_t>() % 4;  // 0: no keys array
        for (uint32_t r = 0; r < rows; ++r) {
            if (key_mode == 1 && fdp.ConsumeBool()) {
                keys.push_back(nullptr);  // an element may be NULL
            } else if (key_mode == 2) {
                key_text.push_back(fdp.ConsumeRandomLengthString(64));
                keys.push_back(key_text.back().c_str());
            } else {
                key_text.push_back("k" + std::to_string(r));
                keys.push_back(key_text.back().c_str());
            }
            for (size_t c = 0; c < names.size(); ++c)
                values.push_back(live[c] ? fuzz::random_cell(fdp, arena) : sp_value{});
        }
        b = {sizeof(sp_batch), static_cast<uint32_t>(names.size()), name_ptrs.data(), rows,
             values.empty() ? nullptr : values.data(), key_mode == 0 ? nullptr : keys.data()};
        return b;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider fdp(data, size);
    fuzz::CellArena arena;

    PipelineOptions opt = pcapi::pipeline_options();
    const char delims[] = {',', ';', '|', '\t', ' ', '\0'};
    opt.list_delimiter = fdp.ConsumeBool() ? delims[fdp.ConsumeIntegralInRange<size_t>(0, sizeof delims - 1)]
                                           : static_cast<char>(fdp.ConsumeIntegral<uint8_t>());
    opt.default_phone_country_code = std::to_string(fdp.ConsumeIntegralInRange<int>(0, 999));
    if (fdp.ConsumeBool()) opt.default_phone_country_code.clear();
    opt.sync_id = fdp.ConsumeRandomLengthString(32);
    const size_t max_events = fdp.ConsumeIntegralInRange<size_t>(1, 1000);
    const size_t max_bytes = fdp.ConsumeBool() ? size_t{4} << 20 : fdp.ConsumeIntegralInRange<size_t>(64, 64 * 1024);

    // Every field mapped: a few (chosen by the input) to typed constants, the rest to columns.
    std::vector<bool> constant(kFieldCount, false);
    for (int k = fdp.ConsumeIntegralInRange<int>(0, 3); k > 0; --k)
        constant[fdp.ConsumeIntegralInRange<size_t>(0, kFieldCount - 1)] = true;
    std::deque<std::string> entry_text;
    std::deque<sp_value> constants;
    std::deque<sp_mapping_entry> entries;
    std::vector<const sp_mapping_entry *> entry_ptrs;
    Batch first;
    for (size_t i = 0; i < kFieldCount; ++i) {
        const std::string_view name = field_info(static_cast<Field>(i)).name;
        entry_text.emplace_back(name);
        sp_mapping_entry e{sizeof(sp_mapping_entry), entry_text.back().c_str(), nullptr, nullptr};
        if (constant[i]) {
            constants.push_back(fuzz::random_cell(fdp, arena));
            e.constant = &constants.back();
        } else {
            entry_text.push_back("c_" + std::string(name));
            e.source_column = entry_text.back().c_str();
            first.names.push_back(entry_text.back());
        }
        entries.push_back(e);
    }
    for (const auto &e : entries) entry_ptrs.push_back(&e);
    const sp_mapping mapping{sizeof(sp_mapping), static_cast<uint32_t>(entry_ptrs.size()), entry_ptrs.data()};

    std::unique_ptr<Pipeline> pipeline;
    try {
        pipeline = std::make_unique<Pipeline>(Mapping::compile(&mapping, rules()), opt, max_events, max_bytes);
    } catch (const sp::failure &f) {
        if (f.category() != SP_ERR_CONFIG) finding(std::string("compile: category ") + std::to_string(f.category()));
        return 0;  // e.g. a constant with an undefined type number
    }

    EncodedBatch out;
    for (int round = 0; round < 2; ++round) {
        Batch second;
        Batch &batch = round == 0 ? first : second;
        if (round == 1) {
            second.names = first.names;
            // Another column order (rotation), sometimes a column dropped or an extra one added.
            if (!second.names.empty())
                std::rotate(second.names.begin(),
                            second.names.begin() + fdp.ConsumeIntegralInRange<size_t>(0, second.names.size() - 1),
                            second.names.end());
            const uint8_t change = fdp.ConsumeIntegral<uint8_t>() % 8;
            if (change == 1 && !second.names.empty()) second.names.pop_back();
            if (change == 2) second.names.push_back("extra");
        }
        const uint32_t rows = fdp.ConsumeIntegralInRange<uint32_t>(0, kMaxRows);
        const sp_batch &b = batch.make(fdp, arena, rows);
        try {
            pipeline->encode(b, kNow, out);
        } catch (const sp::failure &f) {
            if (f.category() != SP_ERR_CONFIG) finding("encode: category " + std::to_string(f.category()));
            bool complete = true;  // every mapped column present: then nothing may be refused
            for (const auto &n : first.names)
                complete = complete && std::find(batch.names.begin(), batch.names.end(), n) != batch.names.end();
            if (complete) finding(std::string("encode refused a batch with every mapped column: ") + f.what());
            continue;
        }
        check(out, rows, max_events, max_bytes, fdp);
    }
    return 0;
}
