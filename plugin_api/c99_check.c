/* Compiled with -std=c99 -pedantic-errors: fails the build if syncplugin.h stops being C99. */
#include <syncplugin/syncplugin.h>

int sp_c99_check_struct_sizes(void);
int sp_c99_check_struct_sizes(void) {
    sp_value v;
    v.type = SP_VALUE_NULL;
    return (int)sizeof(v) + (int)sizeof(sp_entry);
}
