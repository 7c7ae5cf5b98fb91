// The reference reading of Pinterest's per-event answers: the DOM implementation that
// pcapi::transport::parse_event_results replaced with a streaming reader. Kept for tests only:
// both must agree on every body (tests/transport/transport_unit_test.cpp and fuzz_response).
#pragma once

#include "plugin/delivery.hpp"

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace oracle {

inline std::string clip(std::string_view s) {
    constexpr size_t kMax = 300;
    if (s.size() <= kMax) return std::string(s);
    size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return std::string(s.substr(0, n)) + "...";
}

inline std::string_view string_at(const boost::json::object &o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string_view(it->value().get_string()) : std::string_view();
}

inline bool parse_event_results(std::string_view body, size_t expected, std::vector<pcapi::EventOutcome> &out,
                                std::string &problem) {
    namespace json = boost::json;
    json::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        problem = ec ? "response body is not valid JSON (" + ec.message() + ")" : "response body is not a JSON object";
        return false;
    }
    const json::object *o = &v.get_object();
    if (auto d = o->find("details"); d != o->end() && d->value().is_object()) o = &d->value().get_object();
    auto it = o->find("events");
    if (it == o->end() || !it->value().is_array()) {
        problem = "response has no events array";
        return false;
    }
    const json::array &events = it->value().get_array();
    if (events.size() != expected) {
        problem =
            "response lists " + std::to_string(events.size()) + " events for " + std::to_string(expected) + " sent";
        return false;
    }
    out.assign(expected, pcapi::EventOutcome{});
    for (size_t i = 0; i < expected; ++i) {
        if (!events[i].is_object()) {
            problem = "event result " + std::to_string(i) + " is not an object";
            return false;
        }
        const json::object &e = events[i].get_object();
        const std::string_view status = string_at(e, "status");
        pcapi::EventOutcome &r = out[i];
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

// Empty when the two readings of `body` agree; otherwise what differs.
template <class Parse>
std::string disagreement(Parse &&parse, std::string_view body, size_t expected) {
    std::vector<pcapi::EventOutcome> a, b;
    std::string pa, pb;
    const bool ok_a = parse(body, expected, a, pa), ok_b = parse_event_results(body, expected, b, pb);
    if (ok_a != ok_b) return std::string("accepted by ") + (ok_a ? "the reader" : "the reference") + " only";
    if (!ok_a) return pa == pb ? "" : "problems differ: \"" + pa + "\" vs \"" + pb + "\"";
    for (size_t i = 0; i < expected; ++i)
        if (a[i].status != b[i].status || a[i].category != b[i].category || a[i].message != b[i].message)
            return "outcome " + std::to_string(i) + " differs";
    return "";
}

}  // namespace oracle
