#include "commands.h"

int main(int argc, char** argv) { return looplab::host::main_command(argc, argv); }
