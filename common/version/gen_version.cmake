# Run at build time (not configure time), so the version a program reports is the commit it was
# built from, "-dirty" when the tree had changes. Rewrites the header only when the text changes,
# so an unchanged version rebuilds nothing.
execute_process(COMMAND git describe --always --dirty --tags WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE version OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
if(failed OR NOT version)
  set(version "unknown")
endif()
set(text "#pragma once\n#define RP_GIT_VERSION_TEXT \"${version}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE ${OUT} "${text}")
endif()
