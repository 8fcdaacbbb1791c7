#include "cli/commands.h"
#include "common/devices.h"

int main(int argc, char** argv) {
  looplab::host::keep_freed_memory();  // before LibTorch allocates anything
  return looplab::host::main_command(argc, argv);
}
