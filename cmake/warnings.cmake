# Warnings and sanitizers for every target of the project (not for dependencies).
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
                    -Wcast-align -Woverloaded-virtual
                    -Wimplicit-fallthrough)
if(ECMGW_WERROR)
  add_compile_options(-Werror)
endif()
if(ECMGW_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
