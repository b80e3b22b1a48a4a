// Must NOT compile: the scenario format sits below the run that executes it (the loop between
// the scenario loader and the checks' evaluation is gone), so a run header is not on its path.
#include "simulator/run/run.h"
#include "simulator/scenario/scenario.h"
