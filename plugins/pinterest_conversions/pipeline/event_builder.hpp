// Turns one mapped record into one Pinterest v5 event object (JSON text), or explains precisely
// why it cannot: the heart of the pipeline. Pure: no I/O, no clock (the caller passes "now").
#pragma once

#include "normalize/sha256.hpp"
#include "normalize/values.hpp"
#include "pipeline/json_out.hpp"
#include "pipeline/event_objects.hpp"
#include "pipeline/fields.hpp"
#include "pipeline/mapping.hpp"
#include "pipeline/match_quality.hpp"
#include "pipeline/shape_memo.hpp"

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <string>
#include <array>
#include <string_view>
#include <vector>

namespace pcapi {

struct PipelineOptions {
    std::string default_phone_country_code;  // digits or empty
    char list_delimiter = ',';
    int64_t max_age_seconds = 7 * 86400;
    int64_t max_future_seconds = 300;
    std::string sync_id;  // seeds derived event ids
    // The configured ad account, canonical (canonical_ad_account): rows that name it travel with
    // the rows that name none, in the same requests.
    std::string configured_account;
    // Limited Data Processing: events whose state (normalized: "ca") is one of these, in the US
    // (country "us" or not given), are sent with opt_out_type LDP, as are rows whose `ldp` field
    // is true. LDP events always carry st and country.
    std::vector<std::string> ldp_states;
    // The values the manifest lists for event_name and action_source (plugin/manifest.hpp's
    // pipeline_options() fills them).
    NameCatalogue event_names, action_sources;
};

// Why a record was rejected. `message` names the field and the rule, never the value.
struct RowError {
    Field field = Field::count_;  // count_: not about one field
    std::string message;
};

inline constexpr size_t kEventIdLength = 36;

// Derived event id: UUID-formatted SHA-256 of (sync_id, record key), the same across runs and
// processes, so a re-sent row is recognized by Pinterest as the same event.
// `scratch` is a reusable buffer.
void derive_event_id(Sha256 &sha, std::string_view sync_id, std::string_view record_key,
                     char out[kEventIdLength], std::string &scratch);

class EventBuilder {
public:
    explicit EventBuilder(PipelineOptions options) : opt_(std::move(options)) {}

    // Appends the event JSON for record r to `out` and returns true; on rejection returns false
    // with `err` set and `out` unchanged. `event_id` receives the event's id (empty when the
    // rejection happened before the id was known).
    bool build(const Mapping &mapping, const sp_batch &batch, uint32_t r, int64_t now_s, json_out::Writer &out,
               std::string &event_id, RowError &err);
    // The same, appending to a string (tests, benchmarks).
    bool build(const Mapping &mapping, const sp_batch &batch, uint32_t r, int64_t now_s, std::string &out,
               std::string &event_id, RowError &err);

    // Whether the event last built is subject to Limited Data Processing (opt_out_type LDP).
    bool last_event_ldp() const noexcept { return ldp_; }
    // The event last built: its shaped name, the EQS components it carries, and its event_time
    // (match_quality.hpp counts them once the event has its place in a request).
    std::string_view last_event_name() const noexcept { return event_name_; }
    ComponentSet last_components() const noexcept { return components_; }
    int64_t last_event_time() const noexcept { return event_time_; }

    // Indexes of st and country among the user_data keys (em, ph, fn, ln, ge, db, ct, st, zp, ...).
    static constexpr uint8_t kStateKey = 7, kCountryKey = 9;

private:
    bool build_event(const Mapping &m, const sp_batch &b, uint32_t r, int64_t now_s, json_out::Writer &out,
                     std::string &event_id, RowError &err);
    bool user_data(const Mapping &m, const sp_batch &b, uint32_t r, json_out::Writer &out, std::string &event_id,
                   RowError &err);
    bool collect_identifiers(const Mapping &m, const sp_batch &b, uint32_t r, RowError &err);
    void hash_identifiers(json_out::Writer &out, std::string &event_id);
    bool custom_data(const Mapping &m, const sp_batch &b, uint32_t r, json_out::Writer &out, RowError &err);
    // Decides ldp_ for record r from its collected (not yet hashed) identifiers; adds the country
    // "us" when the state list decided it and no country was given. False with `err` when an LDP
    // event lacks its state or country (pipeline/ldp.cpp).
    bool decide_ldp(const Mapping &m, const sp_batch &b, uint32_t r, RowError &err);
    // custom_data.opt_out_type: as mapped, with LDP added to the list for an LDP event.
    bool opt_out_type(const Mapping &m, const sp_batch &b, uint32_t r, json_out::Writer &out, bool &first,
                      RowError &err);
    bool fail(RowError &err, Field f, std::string_view reason, int index = -1);

    // The fields of a mapping that each event looks at, per group the builder walks, in the
    // group's order: made at the first event of a mapping, so that an event does not test each of
    // the fifty-odd fields it could have (a mapping has about a dozen).
    struct Plan {
        uint64_t mapping = 0;  // Mapping::id() it was made for
        std::vector<std::pair<uint8_t, Field>> hashed;  // index into the user_data keys, raw or pre-hashed field
        std::vector<Field> event_strings, user_strings, custom_strings;
    };
    void plan_for(const Mapping &m);

    PipelineOptions opt_;
    Plan plan_;
    Sha256 sha_;
    ObjectScratch objects_;  // app_info and device_info
    std::string scratch_, norm_, list_scratch_, text_, id_material_;
    ShapeMemo event_names_, action_sources_, currencies_;  // few distinct values, row after row
    std::vector<std::array<char, 64>> hashes_;  // distinct hashes of one user_data key

    // One event's identifiers between normalization and hashing: all of them (and the derived
    // event id) are hashed in one Sha256::hex_many call, which is about twice as fast as one by one.
    struct Identifier {
        uint8_t key;           // index into the user_data keys (em, ph, ...)
        bool prehashed;        // the text is already the hash
        uint32_t begin, size;  // the normalized text in identifier_text_
    };
    std::vector<Identifier> identifiers_;
    std::string identifier_text_;
    std::vector<std::string_view> hash_inputs_;
    std::string hash_outputs_;         // 64 hex characters per hash input
    bool event_id_pending_ = false;    // id_material_ awaits hashing into the event id
    bool ldp_ = false;                 // the event is subject to Limited Data Processing
    ComponentSet components_ = 0;      // EQS components the event carries
    int64_t event_time_ = 0;
    std::string event_name_;
    size_t event_id_at_ = 0;           // where that id goes in `out`
};

}  // namespace pcapi
