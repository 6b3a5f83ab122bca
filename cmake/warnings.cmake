# Project-wide warnings; PLINTH_WERROR (on in every preset) makes them fatal.
add_compile_options(-Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 at -O2/-O3 reports false positives inside libstdc++'s std::string
  # (maybe-uninitialized, restrict); they are not actionable in our code.
  add_compile_options(-Wno-maybe-uninitialized -Wno-restrict)
endif()
if(PLINTH_WERROR)
  add_compile_options(-Werror)
endif()
