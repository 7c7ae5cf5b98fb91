#include "plugin/manifest.hpp"

#include <syncplugin/syncplugin.hpp>

extern const char pcapi_manifest_json[];
extern const unsigned long pcapi_manifest_json_size;

namespace pcapi {

namespace {

const spmanifest::DescriptorStorage &storage() {
    static const spmanifest::DescriptorStorage s = [] {
        std::string text(pcapi_manifest_json, pcapi_manifest_json_size);
        return spmanifest::DescriptorStorage(spmanifest::parse(text), text);
    }();
    return s;
}

}  // namespace

const spmanifest::Manifest &manifest() { return storage().manifest(); }

PipelineOptions pipeline_options() {
    auto values_of = [](const char *field) {
        const spmanifest::DestinationField *f = manifest().field(field);
        return f ? f->values : std::vector<std::string>{};
    };
    PipelineOptions o;
    o.event_names = NameCatalogue(values_of("event_name"), "event name");
    o.action_sources = NameCatalogue(values_of("action_source"), "action source");
    return o;
}
const sp_descriptor *descriptor() { return storage().get(); }

}  // namespace pcapi
