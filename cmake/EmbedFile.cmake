# embed_file(INPUT OUTPUT SYMBOL): generates OUTPUT, a C++ file defining
#   extern const char SYMBOL[];  (NUL-terminated)   extern const unsigned long SYMBOL_size;
# regenerated whenever INPUT changes.
function(embed_file input output symbol)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DINPUT=${input} -DOUTPUT=${output} -DSYMBOL=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFileScript.cmake
    DEPENDS ${input} ${PROJECT_SOURCE_DIR}/cmake/EmbedFileScript.cmake
    COMMENT "Embedding ${input}" VERBATIM)
endfunction()
