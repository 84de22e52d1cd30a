#ifndef CONSOLE_ACCESS_FUZZ_DRIVER_H
#define CONSOLE_ACCESS_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry for programs that have their own main (compiler-rt, FuzzerInterface.h).
// SwiftPM links an executable's main under the name <module>_main, so the fuzz targets call
// this from there instead of linking libFuzzer's own main. Only referenced in -D FUZZING builds.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
