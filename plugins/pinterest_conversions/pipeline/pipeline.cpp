#include "pipeline/pipeline.hpp"

#include <algorithm>

namespace pcapi {

void EncodedBatch::clear() {
    for (auto &p : payloads) spare_.push_back(std::move(p));
    payloads.clear();
    records.clear();
    ids.clear();
    messages.clear();
}

Payload &EncodedBatch::new_payload() {
    if (spare_.empty()) return payloads.emplace_back();
    Payload &p = payloads.emplace_back(std::move(spare_.back()));
    spare_.pop_back();
    p.body.clear();
    p.items.clear();
    return p;
}

Pipeline::Pipeline(Mapping mapping, PipelineOptions options, size_t max_events, size_t max_bytes)
    : mapping_(std::move(mapping)), builder_(std::move(options)), max_events_(max_events), max_bytes_(max_bytes) {}

void Pipeline::encode(const sp_batch &batch, int64_t now_s, EncodedBatch &out) {
    out.clear();
    mapping_.bind(batch);
    out.records.resize(batch.record_count);
    out.ids.reserve(static_cast<size_t>(batch.record_count) * kEventIdLength);
    for (uint32_t r = 0; r < batch.record_count; ++r) {
        event_.clear();
        const bool ok = builder_.build(mapping_, batch, r, now_s, event_, event_id_, err_);
        EncodedBatch::Record &rec = out.records[r];
        rec.id_begin = static_cast<uint32_t>(out.ids.size());
        rec.id_len = static_cast<uint32_t>(event_id_.size());
        out.ids.append(event_id_);
        if (!ok) {
            rec.rejected = true;
            rec.field = err_.field;
            rec.message = static_cast<uint32_t>(out.messages.size());
            out.messages.push_back(err_.message);
            continue;
        }
        if (event_.size() + Payload::prefix.size() + Payload::suffix.size() > max_bytes_) {
            rec.rejected = true;
            rec.message = static_cast<uint32_t>(out.messages.size());
            out.messages.push_back("event is " + std::to_string(event_.size()) +
                                   " bytes, more than the request byte cap (max_request_bytes)");
            continue;
        }
        add_event(out, r);
    }
    for (Payload &p : out.payloads) p.body.append(Payload::suffix);
}

void Pipeline::add_event(EncodedBatch &out, uint32_t record) {
    Payload *p = out.payloads.empty() ? nullptr : &out.payloads.back();
    if (p == nullptr || p->items.size() >= max_events_ || p->body.size() + 1 + event_.size() + Payload::suffix.size() > max_bytes_) {
        p = &out.new_payload();
        p->body.reserve(std::min(max_bytes_, max_events_ * (event_.size() + 1) + 64));
        p->body.append(Payload::prefix);
    } else {
        p->body.push_back(',');
    }
    const auto begin = static_cast<uint32_t>(p->body.size());
    p->body.append(event_);
    p->items.push_back({begin, static_cast<uint32_t>(p->body.size()), record});
}

}  // namespace pcapi
