#include "transport/response.hpp"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

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

std::string_view string_at(const json::object &o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string_view(it->value().get_string()) : std::string_view();
}

// The events array of a container (the root object, or a 422's "details"): one outcome per
// element, and the first element that is not a usable result.
struct EventList {
    bool present = false;  // the container's last "events" key holds an array
    size_t count = 0;
    std::vector<EventOutcome> outcomes;  // of the first `expected` elements
    size_t bad_at = 0;
    const char *bad = nullptr;  // "is not an object" / "has an unknown status", for element bad_at

    void reset(bool is_array) {
        present = is_array;
        count = 0;
        outcomes.clear();
        bad = nullptr;
    }
    void problem_at(size_t i, const char *what) {
        if (bad == nullptr) bad_at = i, bad = what;
    }
};

// A handler for json::basic_parser that keeps only what parse_event_results needs. Like the DOM
// it replaces, the last of duplicate keys wins, and a key whose value has the wrong type counts as
// missing.
class EventResultsReader {
public:
    static constexpr std::size_t max_array_size = -1, max_object_size = -1, max_string_size = -1, max_key_size = -1;

    explicit EventResultsReader(size_t expected) : expected_(expected) {}

    bool result(size_t expected, std::vector<EventOutcome> &out, std::string &problem) {
        if (!root_is_object_) {
            problem = "response body is not a JSON object";
            return false;
        }
        EventList &list = details_is_object_ ? details_ : root_;
        if (!list.present) {
            problem = "response has no events array";
            return false;
        }
        if (list.count != expected) {
            problem =
                "response lists " + std::to_string(list.count) + " events for " + std::to_string(expected) + " sent";
            return false;
        }
        if (list.bad != nullptr) {
            problem = "event result " + std::to_string(list.bad_at) + " " + list.bad;
            return false;
        }
        out = std::move(list.outcomes);
        return true;
    }

    bool on_document_begin(json::error_code &) { return true; }
    bool on_document_end(json::error_code &) { return true; }
    bool on_object_begin(json::error_code &) { return open(Frame::object); }
    bool on_object_end(std::size_t, json::error_code &) { return close(); }
    bool on_array_begin(json::error_code &) { return open(Frame::array); }
    bool on_array_end(std::size_t, json::error_code &) { return close(); }
    bool on_key_part(json::string_view s, std::size_t, json::error_code &) {
        key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(json::string_view s, std::size_t, json::error_code &) {
        key_.append(s.data(), s.size());
        top().role = role_of(top().kind, key_);
        key_.clear();
        return true;
    }
    bool on_string_part(json::string_view s, std::size_t, json::error_code &) {
        if (wants_text()) text_.append(s.data(), s.size());
        return true;
    }
    bool on_string(json::string_view s, std::size_t, json::error_code &) {
        if (wants_text()) {
            text_.append(s.data(), s.size());
            set_text(text_);
            text_.clear();
        }
        return scalar(true);
    }
    bool on_number_part(json::string_view, json::error_code &) { return true; }
    bool on_int64(int64_t, json::string_view, json::error_code &) { return scalar(false); }
    bool on_uint64(uint64_t, json::string_view, json::error_code &) { return scalar(false); }
    bool on_double(double, json::string_view, json::error_code &) { return scalar(false); }
    bool on_bool(bool, json::error_code &) { return scalar(false); }
    bool on_null(json::error_code &) { return scalar(false); }
    bool on_comment_part(json::string_view, json::error_code &) { return true; }
    bool on_comment(json::string_view, json::error_code &) { return true; }

private:
    // What an object or array is, to this reader.
    enum class Kind : uint8_t { root, details, events, event, other };
    // What the value after the current key means.
    enum class Role : uint8_t { none, details, events, status, error, warning };
    enum class Frame : uint8_t { object, array };
    enum class Status : uint8_t { missing, processed, failed, other };
    struct Level {
        Kind kind;
        Role role = Role::none;     // objects: of the value being read
        EventList *list = nullptr;  // events arrays: the list they fill
    };

    static Role role_of(Kind k, std::string_view key) {
        switch (k) {
            case Kind::root:
                if (key == "details") return Role::details;
                return key == "events" ? Role::events : Role::none;
            case Kind::details:
                return key == "events" ? Role::events : Role::none;
            case Kind::event:
                if (key == "status") return Role::status;
                if (key == "error_message") return Role::error;
                return key == "warning_message" ? Role::warning : Role::none;
            default:
                return Role::none;
        }
    }

    Level &top() { return stack_.back(); }

    // A value starts in the current container: counts array elements and settles the meaning of
    // the container's current key (a value of the wrong type leaves the key as good as missing).
    void value_begins(bool is_object, bool is_array, bool is_string) {
        if (stack_.empty()) {
            root_is_object_ = is_object;
            return;
        }
        Level &l = top();
        if (l.kind == Kind::events) {
            const size_t i = l.list->count++;
            if (!is_object) l.list->problem_at(i, "is not an object");
            return;
        }
        switch (l.role) {
            case Role::details:
                details_is_object_ = is_object;
                details_.reset(false);
                break;
            case Role::events:
                (l.kind == Kind::root ? root_ : details_).reset(is_array);
                break;
            case Role::status:
                if (!is_string) status_ = Status::missing;
                break;
            case Role::error:
                if (!is_string) error_.clear();
                break;
            case Role::warning:
                if (!is_string) warning_.clear();
                break;
            case Role::none:
                break;
        }
    }

    bool open(Frame f) {
        const bool object = f == Frame::object;
        value_begins(object, !object, false);
        Kind k = Kind::other;
        EventList *list = nullptr;
        if (stack_.empty()) {
            k = object ? Kind::root : Kind::other;
        } else {
            const Level &l = top();
            if (l.kind == Kind::events) {
                if (object) {
                    k = Kind::event;
                    status_ = Status::missing;
                    error_.clear();
                    warning_.clear();
                }
            } else if (l.role == Role::details && object) {
                k = Kind::details;
            } else if (l.role == Role::events && !object) {
                k = Kind::events;
                list = l.kind == Kind::root ? &root_ : &details_;
            }
            top().role = Role::none;
        }
        stack_.push_back({k, Role::none, list});
        return true;
    }

    bool close() {
        const Level l = top();
        stack_.pop_back();
        if (l.kind == Kind::event) finish_event(*top().list);
        return true;
    }

    bool scalar(bool is_string) {
        value_begins(false, false, is_string);
        if (!stack_.empty()) top().role = Role::none;
        return true;
    }

    bool wants_text() const {
        if (stack_.empty()) return false;
        const Role r = stack_.back().role;
        return r == Role::status || r == Role::error || r == Role::warning;
    }
    void set_text(std::string_view s) {
        switch (top().role) {
            case Role::status:
                status_ = s == "processed" ? Status::processed : s == "failed" ? Status::failed : Status::other;
                break;
            case Role::error:
                error_.assign(s);
                break;
            case Role::warning:
                warning_.assign(s);
                break;
            default:
                break;
        }
    }

    void finish_event(EventList &list) {
        const size_t i = list.count - 1;
        if (status_ != Status::processed && status_ != Status::failed) list.problem_at(i, "has an unknown status");
        if (i >= expected_ || list.bad != nullptr) return;  // the answer is unusable anyway
        EventOutcome &r = list.outcomes.emplace_back();
        if (status_ == Status::processed) {
            r.status = SP_RECORD_OK;
            if (!warning_.empty()) r.message = "Pinterest warning: " + clip(warning_);
        } else {
            r.status = SP_RECORD_REJECTED;
            r.category = SP_ERR_DATA;
            r.message =
                "Pinterest rejected the event: " + (error_.empty() ? std::string("no reason given") : clip(error_));
        }
    }

    size_t expected_;
    std::vector<Level> stack_;
    bool root_is_object_ = false, details_is_object_ = false;
    EventList root_, details_;
    std::string key_, text_;
    // The event object being read.
    Status status_ = Status::missing;
    std::string error_, warning_;
};

}  // namespace

bool parse_event_results(std::string_view body, size_t expected, std::vector<EventOutcome> &out, std::string &problem) {
    // Read as a stream of events instead of a DOM: a 1,000-event answer is ~3,000 values, and
    // only their statuses and messages matter. The same parser checks the same grammar and UTF-8.
    json::basic_parser<EventResultsReader> parser(json::parse_options{}, expected);
    json::error_code ec;
    const size_t used = parser.write_some(false, body.data(), body.size(), ec);
    if (!ec && used < body.size()) ec = json::error::extra_data;  // what json::parse reports
    if (ec) {
        problem = "response body is not valid JSON (" + ec.message() + ")";
        return false;
    }
    return parser.handler().result(expected, out, problem);
}

std::string error_summary(unsigned status, std::string_view body) {
    json::error_code ec;
    json::value v = json::parse(body, ec);
    std::string out = "HTTP " + std::to_string(status);
    if (!ec && v.is_object()) {
        const json::object &o = v.get_object();
        if (auto it = o.find("code"); it != o.end() && it->value().is_int64())
            out += ", code " + std::to_string(it->value().get_int64());
        if (auto m = string_at(o, "message"); !m.empty())
            out += ": " + clip(m);
        else if (auto e = string_at(o, "error"); !e.empty())
            out += ": " + clip(e);
    }
    return out;
}

}  // namespace pcapi::transport
