#include "transport/response.hpp"

#include <boost/json.hpp>

namespace pcapi::transport {

namespace json = boost::json;

namespace {

constexpr size_t kMaxMessage = 300;

// At most kMaxMessage bytes, cut at a character boundary so the message stays valid UTF-8.
std::string clip(std::string_view s) {
    if (s.size() <= kMaxMessage) return std::string(s);
    size_t n = kMaxMessage;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // s[n] continues a character
    return std::string(s.substr(0, n)) + "...";
}

const json::object *object_at(const json::object &o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

std::string_view string_at(const json::object &o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string_view(it->value().get_string()) : std::string_view();
}

}  // namespace

bool parse_event_results(std::string_view body, size_t expected, std::vector<EventOutcome> &out,
                         std::string &problem) {
    json::error_code ec;
    // The DOM of a 1,000-event answer is ~3,000 values: built in an arena that grows in a few
    // large blocks, not one allocation per object and string, and freed at once on return.
    json::monotonic_resource arena(2 * body.size() + 1024);
    json::value v = json::parse(body, ec, &arena);
    if (ec || !v.is_object()) {
        problem = ec ? "response body is not valid JSON (" + ec.message() + ")" : "response body is not a JSON object";
        return false;
    }
    const json::object *o = &v.get_object();
    if (const json::object *details = object_at(*o, "details")) o = details;  // 422 DetailedError
    auto it = o->find("events");
    if (it == o->end() || !it->value().is_array()) {
        problem = "response has no events array";
        return false;
    }
    const json::array &events = it->value().get_array();
    if (events.size() != expected) {
        problem = "response lists " + std::to_string(events.size()) + " events for " + std::to_string(expected) + " sent";
        return false;
    }
    out.assign(expected, EventOutcome{});
    for (size_t i = 0; i < expected; ++i) {
        if (!events[i].is_object()) {
            problem = "event result " + std::to_string(i) + " is not an object";
            return false;
        }
        const json::object &e = events[i].get_object();
        const std::string_view status = string_at(e, "status");
        EventOutcome &r = out[i];
        if (status == "processed") {
            r.status = SP_RECORD_OK;
            if (auto w = string_at(e, "warning_message"); !w.empty()) r.message = "Pinterest warning: " + clip(w);
        } else if (status == "failed") {
            r.status = SP_RECORD_REJECTED;
            r.category = SP_ERR_DATA;
            auto m = string_at(e, "error_message");
            r.message = "Pinterest rejected the event: " + (m.empty() ? std::string("no reason given") : clip(m));
        } else {
            problem = "event result " + std::to_string(i) + " has an unknown status";
            return false;
        }
    }
    return true;
}

std::string error_summary(unsigned status, std::string_view body) {
    json::error_code ec;
    json::value v = json::parse(body, ec);
    std::string out = "HTTP " + std::to_string(status);
    if (!ec && v.is_object()) {
        const json::object &o = v.get_object();
        if (auto it = o.find("code"); it != o.end() && it->value().is_int64())
            out += ", code " + std::to_string(it->value().get_int64());
        if (auto m = string_at(o, "message"); !m.empty()) out += ": " + clip(m);
        else if (auto e = string_at(o, "error"); !e.empty()) out += ": " + clip(e);
    }
    return out;
}

}  // namespace pcapi::transport
