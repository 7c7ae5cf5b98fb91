#include "plugin/capabilities.hpp"

#include "exit_codes.hpp"

#include <support/suggest.hpp>

#include <vector>

namespace synchost {

namespace {

void require(const std::string &plugin, std::string_view kind, std::string_view mode, uint32_t bit,
             uint32_t declared, const std::vector<std::string> &supported, const char *const *all) {
    if (bit != 0 && (declared & bit)) return;
    std::string msg = plugin + " supports " + std::string(kind) + " " +
                      (supported.empty() ? std::string("none") : support::join(supported)) + " only";
    if (bit == 0) {
        std::vector<std::string> known(all, all + 4);
        msg = "unknown " + std::string(kind) + " \"" + std::string(mode) + "\"" + support::did_you_mean(mode, known) +
              "; " + msg;
    }
    throw CliError(kExitConfig, msg);
}

}  // namespace

void require_sync_mode(const spmanifest::Manifest &m, std::string_view mode) {
    require(m.id, "sync mode", mode, spmanifest::sync_mode_bit(mode), m.sync_modes,
            spmanifest::sync_mode_names(m.sync_modes), spmanifest::all_sync_mode_names());
}

void require_audience_mode(const spmanifest::Manifest &m, std::string_view mode) {
    require(m.id, "audience sync mode", mode, spmanifest::audience_mode_bit(mode), m.audience_modes,
            spmanifest::audience_mode_names(m.audience_modes), spmanifest::all_audience_mode_names());
}

}  // namespace synchost
