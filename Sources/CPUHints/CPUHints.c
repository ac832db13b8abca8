// CPUHints is header-only (include/CPUHints.h); SwiftPM needs one source file per C target.
#include "CPUHints.h"
