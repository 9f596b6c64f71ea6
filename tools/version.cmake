# Writes OUT (a header defining AUTOSCALE_VERSION from `git describe`) only when the version changed, so that every
# build records the commit it was built from without rebuilding anything when it did not change.
execute_process(COMMAND git describe --always --dirty --tags
                WORKING_DIRECTORY "${SRC}"
                OUTPUT_VARIABLE version OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT version)
  set(version "${FALLBACK}")
endif()
set(content "#pragma once\n#define AUTOSCALE_VERSION \"${version}\"\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL content)
  file(WRITE "${OUT}" "${content}")
endif()
