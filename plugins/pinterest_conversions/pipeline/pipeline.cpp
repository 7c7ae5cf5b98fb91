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

void EncodedBatch::drop_last_payload() {
    spare_.push_back(std::move(payloads.back()));
    payloads.pop_back();
}

Pipeline::Pipeline(Mapping mapping, PipelineOptions options, size_t max_events, size_t max_bytes)
    : mapping_(std::move(mapping)), builder_(std::move(options)), max_events_(max_events), max_bytes_(max_bytes) {}

void Pipeline::encode(const sp_batch &batch, int64_t now_s, EncodedBatch &out) {
    out.clear();
    mapping_.bind(batch);
    out.records.resize(batch.record_count);
    out.ids.reserve(static_cast<size_t>(batch.record_count) * kEventIdLength);
    const size_t framing = Payload::prefix.size() + Payload::suffix.size();
    for (uint32_t r = 0; r < batch.record_count; ++r) {
        // Each event is built straight into the request body it will travel in (no copy); the
        // rare event that does not fit moves to the next payload.
        Payload *p = out.payloads.empty() || out.payloads.back().items.size() >= max_events_ ? &start_payload(out)
                                                                                             : &out.payloads.back();
        const size_t mark = p->body.size();
        if (!p->items.empty()) p->body.push_back(',');
        size_t begin = p->body.size();
        const bool ok = builder_.build(mapping_, batch, r, now_s, p->body, event_id_, err_);
        EncodedBatch::Record &rec = out.records[r];
        rec.id_begin = static_cast<uint32_t>(out.ids.size());
        rec.id_len = static_cast<uint32_t>(event_id_.size());
        out.ids.append(event_id_);
        if (!ok) {
            p->body.resize(mark);
            rec.rejected = true;
            rec.field = err_.field;
            rec.message = static_cast<uint32_t>(out.messages.size());
            out.messages.push_back(err_.message);
            continue;
        }
        const size_t size = p->body.size() - begin;
        last_event_size_ = size;
        if (size + framing > max_bytes_) {
            p->body.resize(mark);
            rec.rejected = true;
            rec.message = static_cast<uint32_t>(out.messages.size());
            out.messages.push_back("event is " + std::to_string(size) +
                                   " bytes, more than the request byte cap (max_request_bytes)");
            continue;
        }
        if (p->body.size() + Payload::suffix.size() > max_bytes_) {
            event_.assign(p->body, begin, size);
            p->body.resize(mark);
            p = &start_payload(out);  // may move the payloads: p is re-read
            begin = p->body.size();
            p->body.append(event_);
        }
        p->items.push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(p->body.size()), r});
    }
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
