// Placeholder entry; replaced by the real entry table in the foundation commit.
#include <syncplugin/syncplugin.h>
extern "C" __attribute__((visibility("default"))) const sp_entry *sp_get_entry(uint32_t) { return nullptr; }
