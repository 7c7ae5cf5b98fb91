// The event's app_info and device_info objects (Pinterest schema release 5.23): each member is a
// destination field of its own ("app_info.app_package_name", "device_info.screen_width"), shaped
// and limited as the schema says (MemberRule in fields.hpp).
#pragma once

#include "pipeline/fields.hpp"
#include "pipeline/json_out.hpp"
#include "pipeline/mapping.hpp"

#include <syncplugin/syncplugin.h>

#include <string>

namespace pcapi {

// Scratch buffers reused from row to row.
struct ObjectScratch {
    std::string text, list;
};

// Writes `"app_info":{...}` and `"device_info":{...}` (each after a comma unless `first`) with the
// members of record r that are mapped and not NULL or blank; an object with no such member is left
// out. Only keys of the schema are ever written. Returns false when a value breaks its member's
// rule, with `bad` the field and `reason` the rule (no value is quoted); `out` may then hold part
// of an object, and the caller drops the event.
bool write_event_objects(const Mapping &m, const sp_batch &b, uint32_t r, char list_delimiter, json_out::Writer &out,
                         bool &first, ObjectScratch &scratch, Field &bad, std::string &reason);

}  // namespace pcapi
