// The event pipeline: records in, request payloads and per-record rejections out.
// mapping -> normalization -> hashing -> serialization -> batching (<= max events and bytes per
// payload). Pure: no sockets, no clocks, no threads.
#pragma once

#include "pipeline/event_builder.hpp"
#include "pipeline/mapping.hpp"
#include "pipeline/payload.hpp"

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pcapi {

// What the pipeline decided for each record of a batch.
struct EncodedBatch {
    struct Record {
        bool rejected = false;
        sp_error_category category = SP_ERR_DATA;  // of a rejection
        Field field = Field::count_;  // for rejections about one field
        uint32_t id_begin = 0, id_len = 0;  // event id in `ids`
        uint32_t message = 0;               // index into `messages` when rejected
    };
    std::vector<Payload> payloads;  // events to send, each payload <= the limits
    std::vector<Record> records;    // one per input record, in order
    std::string ids;                // all event ids, concatenated
    std::vector<std::string> messages;
    uint32_t ldp_events = 0;        // events in the payloads sent with opt_out_type LDP
    // Each event placed in a payload, for the match-quality report: counted when its outcome
    // shows the destination took it (MatchQuality::count_in).
    struct Counted {
        uint32_t record;
        uint16_t group;  // MatchQuality::group_of
        ComponentSet components;
        int64_t age_s;
    };
    std::vector<Counted> counted;

    std::string_view event_id(uint32_t r) const {
        return std::string_view(ids).substr(records[r].id_begin, records[r].id_len);
    }
    // Empties the batch but keeps its buffers (request bodies are hundreds of KB each: reusing
    // them avoids page faults and copies on every batch).
    void clear();
    Payload &new_payload();
    void drop_last_payload();

private:
    std::vector<Payload> spare_;
};

class Pipeline {
public:
    Pipeline(Mapping mapping, PipelineOptions options, size_t max_events, size_t max_bytes);

    // Each record must ask for `operation` (sp_operation; Pinterest events are only ever added):
    // any other is rejected with SP_ERR_UNSUPPORTED. `audience` gives the minor-0 default.
    void accept_only(uint32_t operation, bool audience) {
        operation_ = operation;
        audience_ = audience;
    }

    // Encodes every record of `batch`. Throws sp::failure(SP_ERR_CONFIG) when the batch's columns
    // do not fit the mapping (then no record is encoded).
    void encode(const sp_batch &batch, int64_t now_s, EncodedBatch &out);

    // The groups events are counted in (encode finds them), and the counts (the instance adds an
    // event once it was sent: EncodedBatch::counted).
    MatchQuality &quality() { return quality_; }

private:
    Payload &start_payload(EncodedBatch &out);
    // Reads and checks each record's ad account (rejecting the ones that are not an account id)
    // and orders the others by account into order_.
    void route(const sp_batch &batch, EncodedBatch &out);

    Mapping mapping_;
    std::string configured_account_;  // canonical: rows naming it are routed as rows naming none
    EventBuilder builder_;
    size_t max_events_, max_bytes_;
    std::string event_, event_id_;  // event_: one that moves to the next payload
    size_t last_event_size_ = 512;
    RowError err_;
    uint32_t operation_ = SP_OP_UPSERT;
    bool audience_ = false;
    MatchQuality quality_;
    // Routing by the ad_account_id field: the accounts of this batch ("" for the configured one),
    // each record's index into them, and the records in encoding order.
    static constexpr uint32_t kUnrouted = UINT32_MAX;  // rejected before encoding
    std::vector<std::string> routes_;
    std::vector<uint32_t> route_of_, order_;
};

}  // namespace pcapi
