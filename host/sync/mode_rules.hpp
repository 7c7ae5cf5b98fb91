// What each sync mode and audience mode does with a row, as one table the runner consults.
//
// Every row of the model, and every key delivered before that the model no longer holds, falls in
// one of four cases; a mode says, per case, whether the row is skipped, sent with an operation, or
// only recorded in the state without anything being sent (tracked).
//
//   mode             new            changed        unchanged   departed
//   insert           send UPSERT    skip           skip        skip
//   update           send UPSERT    send UPSERT    skip        skip
//   upsert           send UPSERT    send UPSERT    skip        skip
//   mirror           send UPSERT    send UPSERT    skip        send DELETE
//   audience add     send ADD       skip           skip        track (departed)
//   audience remove  track (member) skip           skip        send REMOVE
//   audience mirror  send ADD       skip           skip        send REMOVE
//   audience upsert  send ADD       send ADD       skip        track (departed)
//
// "Changed" compares the row's content hash with the one recorded when it was last delivered.
// Update and upsert send the same records: the host cannot know which keys the destination holds,
// so an instance opened in update mode applies an UPSERT only to a record it already has (the
// header, above sp_operation). Audience remove mode records members as they join, so that it can
// send a REMOVE when they leave.
#pragma once

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <string_view>

namespace synchost {

enum class RowCase { new_key, changed, unchanged, departed };
enum class Act : uint8_t { skip, send, track };

struct ModeRule {
    bool audience;
    const char *name;
    Act on_new, on_changed, on_departed;  // unchanged rows are always skipped
    uint32_t op_new, op_changed, op_departed;  // sp_operation of the sends

    Act act(RowCase c) const {
        switch (c) {
        case RowCase::new_key: return on_new;
        case RowCase::changed: return on_changed;
        case RowCase::departed: return on_departed;
        case RowCase::unchanged: break;
        }
        return Act::skip;
    }
    uint32_t operation(RowCase c) const { return c == RowCase::departed ? op_departed : c == RowCase::new_key ? op_new : op_changed; }
    // Rows' content hashes are kept for delivered keys: the mode tells changed from unchanged.
    bool tracks_changes() const { return on_changed != Act::skip; }
    // Keys gone from the model are looked for (the departure pass). When they are sent, the
    // mass-deletion guard needs their count before anything is sent (a pass over the keys first).
    bool sends_departures() const { return on_departed == Act::send; }
};

inline constexpr ModeRule kModeRules[] = {
    {false, "insert", Act::send, Act::skip, Act::skip, SP_OP_UPSERT, SP_OP_UPSERT, SP_OP_DELETE},
    {false, "update", Act::send, Act::send, Act::skip, SP_OP_UPSERT, SP_OP_UPSERT, SP_OP_DELETE},
    {false, "upsert", Act::send, Act::send, Act::skip, SP_OP_UPSERT, SP_OP_UPSERT, SP_OP_DELETE},
    {false, "mirror", Act::send, Act::send, Act::send, SP_OP_UPSERT, SP_OP_UPSERT, SP_OP_DELETE},
    {true, "add", Act::send, Act::skip, Act::track, SP_OP_ADD, SP_OP_ADD, SP_OP_REMOVE},
    {true, "remove", Act::track, Act::skip, Act::send, SP_OP_ADD, SP_OP_ADD, SP_OP_REMOVE},
    {true, "mirror", Act::send, Act::skip, Act::send, SP_OP_ADD, SP_OP_ADD, SP_OP_REMOVE},
    {true, "upsert", Act::send, Act::send, Act::track, SP_OP_ADD, SP_OP_ADD, SP_OP_REMOVE},
};

// The rule of a mode, or nullptr for an unknown one.
inline const ModeRule *mode_rule(bool audience, std::string_view mode) {
    for (const auto &r : kModeRules)
        if (r.audience == audience && mode == r.name) return &r;
    return nullptr;
}

// What a plugin of ABI minor 0 can be driven in: it cannot be told of any other operation.
inline bool minor0_can_run(const ModeRule &r) {
    return r.on_changed == Act::skip && r.on_departed != Act::send && r.on_new == Act::send;
}

}  // namespace synchost
