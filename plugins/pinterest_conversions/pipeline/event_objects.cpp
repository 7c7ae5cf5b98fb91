#include "pipeline/event_objects.hpp"

#include "normalize/values.hpp"

#include <algorithm>

namespace pcapi {

namespace {

using json_out::key;
using Type = MemberRule::Type;

size_t code_points(std::string_view utf8) {
    return static_cast<size_t>(
        std::count_if(utf8.begin(), utf8.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string choice_list(const MemberRule &rule) {
    std::string list;
    for (size_t i = 0; i < rule.choice_count; ++i) list.append(i ? ", " : "").append(rule.choices[i]);
    return list;
}

// Writes member f's value after its key; false with `reason` set when the value breaks the rule.
// `wrote` is false when the value is blank (nothing written).
bool write_member(Field f, const sp_value &v, char list_delimiter, json_out::Writer &out, bool &first, ObjectScratch &s,
                  std::string &reason, bool &wrote) {
    const MemberRule &rule = member_rule(f);
    const std::string_view member_key = field_info(f).json_key;
    wrote = false;
    auto refuse = [&](std::string why) {
        reason = std::move(why);
        return false;
    };
    switch (rule.type) {
        case Type::string: {
            std::string_view view;
            if (Reason why = shape_string_view(v, s.text, view)) return refuse(why);
            if (view.empty()) return true;
            if (code_points(view) > rule.max_length)
                return refuse("is longer than " + std::to_string(rule.max_length) + " characters (Pinterest's limit)");
            key(out, member_key, first);
            json_out::string(out, view);
            break;
        }
        case Type::integer:
        case Type::unix_time: {
            int64_t n = 0;
            if (Reason why = rule.type == Type::integer ? shape_integer(v, n) : parse_event_time(v, n)) {
                std::string text(why);  // parse_event_time speaks of "event time": this is another time
                if (text.rfind("event time", 0) == 0) text.replace(0, 10, "the time");
                return refuse(std::move(text));
            }
            if (n < rule.min || n > rule.max)
                return refuse(rule.type == Type::unix_time
                                  ? std::string("must not be before 1970")
                                  : "must be between " + std::to_string(rule.min) + " and " + std::to_string(rule.max));
            key(out, member_key, first);
            json_out::integer(out, n);
            break;
        }
        case Type::choice: {
            std::string_view view;
            if (Reason why = shape_string_view(v, s.text, view)) return refuse(why);
            if (view.empty()) return true;
            std::string lower(view);
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
                return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : static_cast<char>(c);
            });
            const std::string_view *end = rule.choices + rule.choice_count;
            const std::string_view *hit = std::find(rule.choices, end, lower);
            if (hit == end) return refuse("must be one of " + choice_list(rule));
            key(out, member_key, first);
            json_out::string(out, *hit);
            break;
        }
        case Type::string_list: {
            const size_t mark = out.size();
            const bool first_before = first;
            key(out, member_key, first);
            out.put('[');
            size_t items = 0;
            Reason why = for_each_list_item(v, list_delimiter, s.list, [&](std::string_view item) -> Reason {
                if (items++) out.put(',');
                json_out::string(out, item);
                return nullptr;
            });
            if (why) return refuse(why);
            if (items > rule.max_length)
                return refuse("has " + std::to_string(items) + " values; Pinterest takes at most " +
                              std::to_string(rule.max_length));
            if (items == 0) {  // an empty list is left out, not sent as []
                out.truncate(mark);
                first = first_before;
                return true;
            }
            out.put(']');
            break;
        }
    }
    wrote = true;
    return true;
}

bool write_object(FieldKind group, std::string_view object_key, const Mapping &m, const sp_batch &b, uint32_t r,
                  char list_delimiter, json_out::Writer &out, bool &first, ObjectScratch &s, Field &bad,
                  std::string &reason) {
    const size_t mark = out.size();
    const bool first_before = first;
    key(out, object_key, first);
    out.put('{');
    bool inner_first = true, any = false;
    for (const Field f : m.object_members()) {
        if (field_info(f).kind != group) continue;
        const sp_value &v = m.value(b, r, f);
        if (v.type == SP_VALUE_NULL) continue;
        bool wrote = false;
        if (!write_member(f, v, list_delimiter, out, inner_first, s, reason, wrote)) {
            bad = f;
            return false;
        }
        any = any || wrote;
    }
    if (!any) {  // no member: no object
        out.truncate(mark);
        first = first_before;
        return true;
    }
    out.put('}');
    return true;
}

}  // namespace

bool write_event_objects(const Mapping &m, const sp_batch &b, uint32_t r, char list_delimiter, json_out::Writer &out,
                         bool &first, ObjectScratch &scratch, Field &bad, std::string &reason) {
    if (m.object_members().empty()) return true;
    return write_object(FieldKind::app_info, PCAPI_JSON_KEY("app_info"), m, b, r, list_delimiter, out, first, scratch,
                        bad, reason) &&
           write_object(FieldKind::device_info, PCAPI_JSON_KEY("device_info"), m, b, r, list_delimiter, out, first,
                        scratch, bad, reason);
}

}  // namespace pcapi
