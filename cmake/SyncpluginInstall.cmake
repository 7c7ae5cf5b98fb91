# sp_install_plugin(TARGET MANIFEST): installs a destination plugin the way an installed synchost
# finds it (component runtime): lib<id>.so with <id>.json beside it in SP_INSTALL_PLUGINDIR, and
# the manifest again in SP_INSTALL_MANIFESTDIR for tools that read manifests without plugins.
function(sp_install_plugin target manifest)
  install(TARGETS ${target} LIBRARY DESTINATION ${SP_INSTALL_PLUGINDIR} COMPONENT runtime)
  install(FILES ${manifest} DESTINATION ${SP_INSTALL_PLUGINDIR} COMPONENT runtime)
  install(FILES ${manifest} DESTINATION ${SP_INSTALL_MANIFESTDIR} COMPONENT runtime)
endfunction()
