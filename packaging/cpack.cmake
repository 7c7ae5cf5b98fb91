# Debian packages, one per install component (README "Use the SDK"):
#   cd build && cpack -G DEB
#     syncplugin_<version>_<arch>.deb      runtime: synchost, the plugins, their manifests
#     syncplugin-dev_<version>_<arch>.deb  dev: headers, CMake package, syncplugin.pc, syncplugin-harness
# Dependencies on shared libraries are computed by dpkg-shlibdeps (package dpkg-dev). The dev
# package does not depend on the runtime one: nothing in it uses synchost or a plugin.
# The first line of each description is its synopsis.
set(CPACK_PACKAGE_NAME syncplugin)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
if(NOT CPACK_PACKAGE_CONTACT)
  set(CPACK_PACKAGE_CONTACT "syncplugin maintainers")
endif()
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL runtime dev)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME syncplugin)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "\
synchost, the reference sync host, and the Pinterest Conversions API plugin
synchost runs insert and audience syncs from SQLite, CSV, JSONL or PostgreSQL sources into
destination plugins loaded through the syncplugin C ABI. It finds plugins in
${CPACK_PACKAGING_INSTALL_PREFIX}/${SP_INSTALL_PLUGINDIR} by default.")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME syncplugin-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_DESCRIPTION "\
syncplugin SDK: C ABI headers, CMake and pkg-config files, conformance harness
Headers <syncplugin/syncplugin.h> (C99) and <syncplugin/syncplugin.hpp> (C++17 helper),
find_package(syncplugin CONFIG) with targets syncplugin::api, syncplugin::cxx and
syncplugin::harness, pkg-config syncplugin, and syncplugin-harness to check any plugin.")

include(CPack)
