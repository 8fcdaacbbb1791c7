#include "cli/commands.h"
#include "common/devices.h"
#include "registry/fault_guard.h"

int main(int argc, char** argv) {
  looplab::host::keep_freed_memory();  // before LibTorch allocates anything
  // Exit-time destructors include the plugins': a damaged one must not turn a finished command
  // into a crash.
  looplab::host::exit_surviving_faults(looplab::host::main_command(argc, argv));
}
