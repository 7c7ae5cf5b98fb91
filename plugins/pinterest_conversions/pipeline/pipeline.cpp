#include "pipeline/pipeline.hpp"

#include "normalize/values.hpp"

#include <algorithm>
#include <map>
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
    p.items.clear();  // the body keeps its old text and length: start_payload writes over it
    p.account.clear();
    return p;
}

void EncodedBatch::drop_last_payload() {
    spare_.push_back(std::move(payloads.back()));
    payloads.pop_back();
}

Pipeline::Pipeline(Mapping mapping, PipelineOptions options, size_t max_events, size_t max_bytes)
    : mapping_(std::move(mapping)),
      configured_account_(options.configured_account),
      builder_(std::move(options)),
      max_events_(max_events),
      max_bytes_(max_bytes) {}

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

void reject(EncodedBatch &out, uint32_t r, sp_error_category category, Field field, std::string message) {
    EncodedBatch::Record &rec = out.records[r];
    rec.rejected = true;
    rec.category = category;
    rec.field = field;
    rec.id_begin = static_cast<uint32_t>(out.ids.size());
    rec.id_len = 0;
    rec.message = static_cast<uint32_t>(out.messages.size());
    out.messages.push_back(std::move(message));
}
}  // namespace

void Pipeline::route(const sp_batch &batch, EncodedBatch &out) {
    routes_.assign(1, std::string());  // route 0: the configured account
    route_of_.assign(batch.record_count, 0);
    std::map<std::string, uint32_t, std::less<>> known;
    std::string scratch;
    std::vector<uint32_t> per_route(1, 0);
    for (uint32_t r = 0; r < batch.record_count; ++r) {
        const sp_value &cell = mapping_.value(batch, r, Field::ad_account_id);
        // A floating-point cell is refused whole: an id above 2^53 has already been rounded to
        // another account's, and the host's per-account counts read such a cell as no id either.
        if (cell.type == SP_VALUE_REAL) {
            reject(out, r, SP_ERR_DATA, Field::ad_account_id,
                   "ad_account_id: is a floating-point number, which may already have rounded the id to "
                   "another account's: read the column as text or as an integer in the model query");
            route_of_[r] = kUnrouted;
            continue;
        }
        std::string_view id;
        const char *why = shape_string_view(cell, scratch, id);
        std::string_view canonical = canonical_ad_account(id);
        if (why != nullptr || (!id.empty() && canonical.empty())) {
            reject(out, r, SP_ERR_DATA, Field::ad_account_id,
                   "ad_account_id: is not an ad account id (digits only, at most 18)");
            route_of_[r] = kUnrouted;
            continue;
        }
        if (canonical == configured_account_) canonical = {};  // the configured account: route 0
        if (!canonical.empty()) {
            auto it = known.find(canonical);  // most rows name an account seen before: no string built for them
            if (it == known.end()) {
                it = known.emplace(std::string(canonical), static_cast<uint32_t>(routes_.size())).first;
                routes_.push_back(it->first);
                per_route.push_back(0);
            }
            route_of_[r] = it->second;
        }
        ++per_route[route_of_[r]];
    }
    // A stable counting sort: each account's records in their batch order; the configured account
    // first, then the others in the order they first appear.
    std::vector<uint32_t> next(per_route.size(), 0);
    for (size_t a = 1; a < per_route.size(); ++a) next[a] = next[a - 1] + per_route[a - 1];
    order_.resize(next.back() + per_route.back());
    for (uint32_t r = 0; r < batch.record_count; ++r)
        if (route_of_[r] != kUnrouted) order_[next[route_of_[r]]++] = r;
}

void Pipeline::encode(const sp_batch &batch, int64_t now_s, EncodedBatch &out) {
    out.clear();
    mapping_.bind(batch);
    out.records.resize(batch.record_count);
    out.ids.reserve(static_cast<size_t>(batch.record_count) * kEventIdLength);
    const size_t framing = Payload::prefix.size() + Payload::suffix.size();
    // Each event is built straight into the request body it will travel in (no copy), through a
    // writer on the last payload's body; the rare event that does not fit moves to a new payload.
    // The writer is closed before payloads are added (that may move the bodies) and reopened.
    // Rows that choose their ad account are encoded account by account (route()), so that a
    // request never mixes accounts; otherwise in batch order, all for the configured account.
    const bool routed = mapping_.mapped(Field::ad_account_id);
    if (routed) route(batch, out);
    const uint32_t count = routed ? static_cast<uint32_t>(order_.size()) : batch.record_count;
    uint32_t payload_route = 0;
    std::optional<json_out::Writer> body;
    auto next_payload = [&](uint32_t route) {
        body.reset();
        start_payload(out).account = routed ? routes_[route] : std::string();
        payload_route = route;
        body.emplace(out.payloads.back().body, Payload::prefix.size());
    };
    const bool operations = SP_HAS_FIELD(&batch, sp_batch, operations) && batch.operations != nullptr;
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t r = routed ? order_[i] : i;
        const uint32_t route = routed ? route_of_[r] : 0;
        if (operations && sp_operation_at(&batch, r, audience_) != operation_) {
            reject(out, r, SP_ERR_UNSUPPORTED, Field::count_,
                   std::string("a ") + operation_name(sp_operation_at(&batch, r, audience_)) +
                       " is not supported: Pinterest conversion events can only be added");
            continue;
        }
        if (out.payloads.empty() || out.payloads.back().items.size() >= max_events_ || route != payload_route)
            next_payload(route);
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
            next_payload(route);
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
    if (p.body.size() < Payload::prefix.size()) p.body.resize(Payload::prefix.size());
    p.body.replace(0, Payload::prefix.size(), Payload::prefix);
    return p;
}

}  // namespace pcapi
