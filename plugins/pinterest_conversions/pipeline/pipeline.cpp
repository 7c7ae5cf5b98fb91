#include "pipeline/pipeline.hpp"

#include <algorithm>
#include <optional>

namespace pcapi {

void EncodedBatch::clear() {
    for (auto &p : payloads) spare_.push_back(std::move(p));
    payloads.clear();
    records.clear();
    ids.clear();
    messages.clear();
    counted.clear();
    ldp_events = 0;
}

Payload &EncodedBatch::new_payload() {
    if (spare_.empty()) return payloads.emplace_back();
    Payload &p = payloads.emplace_back(std::move(spare_.back()));
    spare_.pop_back();
    p.body.clear();
    p.items.clear();
    return p;
}

void EncodedBatch::drop_last_payload() {
    spare_.push_back(std::move(payloads.back()));
    payloads.pop_back();
}

Pipeline::Pipeline(Mapping mapping, PipelineOptions options, size_t max_events, size_t max_bytes)
    : mapping_(std::move(mapping)), builder_(std::move(options)), max_events_(max_events), max_bytes_(max_bytes) {}

namespace {
const char *operation_name(uint32_t op) {
    switch (op) {
    case SP_OP_UPSERT: return "row upsert";
    case SP_OP_DELETE: return "row delete";
    case SP_OP_ADD: return "member add";
    case SP_OP_REMOVE: return "member removal";
    default: return "operation the ABI does not define";
    }
}
}  // namespace

void Pipeline::encode(const sp_batch &batch, int64_t now_s, EncodedBatch &out) {
    out.clear();
    mapping_.bind(batch);
    out.records.resize(batch.record_count);
    out.ids.reserve(static_cast<size_t>(batch.record_count) * kEventIdLength);
    const size_t framing = Payload::prefix.size() + Payload::suffix.size();
    // Each event is built straight into the request body it will travel in (no copy), through a
    // writer on the last payload's body; the rare event that does not fit moves to a new payload.
    // The writer is closed before payloads are added (that may move the bodies) and reopened.
    std::optional<json_out::Writer> body;
    auto next_payload = [&] {
        body.reset();
        start_payload(out);
        body.emplace(out.payloads.back().body);
    };
    const bool operations = SP_HAS_FIELD(&batch, sp_batch, operations) && batch.operations != nullptr;
    for (uint32_t r = 0; r < batch.record_count; ++r) {
        if (operations && sp_operation_at(&batch, r, audience_) != operation_) {
            EncodedBatch::Record &rec = out.records[r];
            rec.rejected = true;
            rec.category = SP_ERR_UNSUPPORTED;
            rec.id_begin = static_cast<uint32_t>(out.ids.size());
            rec.id_len = 0;
            rec.message = static_cast<uint32_t>(out.messages.size());
            out.messages.push_back(std::string("a ") + operation_name(sp_operation_at(&batch, r, audience_)) +
                                   " is not supported: Pinterest conversion events can only be added");
            continue;
        }
        if (out.payloads.empty() || out.payloads.back().items.size() >= max_events_) next_payload();
        const size_t mark = body->size();
        if (!out.payloads.back().items.empty()) body->put(',');
        size_t begin = body->size();
        const bool ok = builder_.build(mapping_, batch, r, now_s, *body, event_id_, err_);
        EncodedBatch::Record &rec = out.records[r];
        rec.id_begin = static_cast<uint32_t>(out.ids.size());
        rec.id_len = static_cast<uint32_t>(event_id_.size());
        out.ids.append(event_id_);
        if (!ok) {
            body->truncate(mark);
            rec.rejected = true;
            rec.field = err_.field;
            rec.message = static_cast<uint32_t>(out.messages.size());
            out.messages.push_back(err_.message);
            continue;
        }
        const size_t size = body->size() - begin;
        last_event_size_ = size;
        if (size + framing > max_bytes_) {
            body->truncate(mark);
            rec.rejected = true;
            rec.message = static_cast<uint32_t>(out.messages.size());
            out.messages.push_back("event is " + std::to_string(size) +
                                   " bytes, more than the request byte cap (max_request_bytes)");
            continue;
        }
        if (body->size() + Payload::suffix.size() > max_bytes_) {
            event_.assign(body->data() + begin, size);
            body->truncate(mark);
            next_payload();
            begin = body->size();
            body->append(event_);
        }
        out.payloads.back().items.push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(body->size()), r});
        out.ldp_events += builder_.last_event_ldp() ? 1 : 0;
        out.counted.push_back({r, static_cast<uint16_t>(quality_.group_of(builder_.last_event_name())),
                               builder_.last_components(), now_s - builder_.last_event_time()});
    }
    body.reset();
    if (!out.payloads.empty() && out.payloads.back().items.empty()) out.drop_last_payload();  // every row rejected
    for (Payload &p : out.payloads) p.body.append(Payload::suffix);
}

Payload &Pipeline::start_payload(EncodedBatch &out) {
    if (!out.payloads.empty() && out.payloads.back().items.empty()) return out.payloads.back();
    Payload &p = out.new_payload();
    // Room for a full payload of events a little larger than the last one, so that it rarely
    // grows (bodies are reused from batch to batch, so this matters only for the first ones).
    p.body.reserve(std::min(max_bytes_, max_events_ * (last_event_size_ + 1) * 5 / 4 + 4096));
    p.body.append(Payload::prefix);
    return p;
}

}  // namespace pcapi
